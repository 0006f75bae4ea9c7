from __future__ import annotations

from chat.sequencing import Event, Repair, Sequencer


def change(seq: int, prev_seq: int | None = None) -> Event:
    """A broadcast of change ``seq``, following ``prev_seq`` (seq - 1)."""
    return {"seq": seq, "prev_seq": seq - 1 if prev_seq is None else prev_seq}


def seqs(events: list[Event]) -> list[int]:
    return [event["seq"] for event in events]


class SequencerOfferTests:
    def test_changes_in_order_are_delivered_at_once(self) -> None:
        sequencer = Sequencer(delivered=4)
        for seq in (5, 6, 7):
            ready, repair = sequencer.offer(change(seq))
            assert (seqs(ready), repair) == ([seq], Repair.NONE)
        assert sequencer.delivered == 7

    def test_an_early_change_waits_for_the_one_before_it(self) -> None:
        sequencer = Sequencer(delivered=4)
        ready, repair = sequencer.offer(change(6))
        assert (ready, repair) == ([], Repair.LATER)
        assert sequencer.delivered == 4
        ready, repair = sequencer.offer(change(5))
        assert (seqs(ready), repair) == ([5, 6], Repair.NONE)
        assert sequencer.waiting == {}

    def test_changes_arriving_backwards_come_out_in_order(self) -> None:
        sequencer = Sequencer(delivered=0)
        delivered: list[Event] = []
        for seq in (4, 3, 2, 1):
            ready, _repair = sequencer.offer(change(seq))
            delivered.extend(ready)
        assert seqs(delivered) == [1, 2, 3, 4]

    def test_a_change_heard_twice_is_delivered_once(self) -> None:
        sequencer = Sequencer(delivered=0)
        assert seqs(sequencer.offer(change(1))[0]) == [1]
        assert sequencer.offer(change(1)) == ([], Repair.NONE)
        assert sequencer.delivered == 1

    def test_a_change_already_repaired_from_the_database_is_dropped(self) -> None:
        sequencer = Sequencer(delivered=0)
        assert seqs(sequencer.take(change(1))) == [1]
        assert seqs(sequencer.take(change(2))) == [2]
        assert sequencer.take(change(2)) == []
        assert sequencer.offer(change(1)) == ([], Repair.NONE)
        assert sequencer.offer(change(2)) == ([], Repair.NONE)
        assert seqs(sequencer.offer(change(3))[0]) == [3]

    def test_a_hole_that_stays_open_asks_for_a_later_repair(self) -> None:
        sequencer = Sequencer(delivered=0)
        sequencer.offer(change(1))
        ready, repair = sequencer.offer(change(3))
        assert (ready, repair) == ([], Repair.LATER)
        # Still missing 2: another early one does not deliver anything.
        ready, repair = sequencer.offer(change(4))
        assert (ready, repair) == ([], Repair.LATER)
        assert sequencer.delivered == 1

    def test_a_repair_closes_the_hole_and_the_held_changes_follow(self) -> None:
        sequencer = Sequencer(delivered=0)
        sequencer.offer(change(1))
        sequencer.offer(change(3))
        sequencer.offer(change(4))
        # The repair reads change 2 from the database.
        assert seqs(sequencer.take(change(2))) == [2]
        ready, repair = sequencer.drain()
        assert (seqs(ready), repair) == ([3, 4], Repair.NONE)
        assert sequencer.delivered == 4

    def test_a_delivered_change_is_never_delivered_again_by_a_drain(self) -> None:
        sequencer = Sequencer(delivered=0)
        sequencer.offer(change(2))
        # The repair brings 1, 2 and 3 from the database.
        for seq in (1, 2, 3):
            sequencer.take(change(seq))
        ready, repair = sequencer.drain()
        assert (ready, repair) == ([], Repair.NONE)
        assert sequencer.waiting == {}


class SequencerHoldTests:
    def test_changes_held_before_the_start_is_known_follow_on_from_it(self) -> None:
        sequencer = Sequencer()
        sequencer.hold(change(11))
        sequencer.hold(change(12))
        sequencer.delivered = 10  # The room's last seq, read from the database.
        ready, repair = sequencer.drain()
        assert (seqs(ready), repair) == ([11, 12], Repair.NONE)

    def test_held_changes_the_start_already_covers_are_dropped(self) -> None:
        sequencer = Sequencer()
        sequencer.hold(change(11))
        sequencer.hold(change(12))
        sequencer.delivered = 12
        ready, repair = sequencer.drain()
        assert (ready, repair) == ([], Repair.NONE)
        assert sequencer.waiting == {}

    def test_held_changes_ahead_of_the_start_wait_for_a_later_repair(self) -> None:
        sequencer = Sequencer()
        sequencer.hold(change(13))
        sequencer.delivered = 10
        ready, repair = sequencer.drain()
        assert (ready, repair) == ([], Repair.LATER)
        assert sequencer.delivered == 10

    def test_a_held_change_that_skips_past_the_start_asks_for_a_repair_now(
        self,
    ) -> None:
        """
        A change after 8 numbered 12 means 9-11 went elsewhere; with 10
        delivered, only the stored state can say what 11 was.
        """
        sequencer = Sequencer()
        sequencer.hold(change(12, prev_seq=8))
        sequencer.delivered = 10
        ready, repair = sequencer.drain()
        assert (ready, repair) == ([], Repair.NOW)
        assert sequencer.delivered == 10
