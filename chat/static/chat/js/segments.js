// Which ids the page holds every message of: closed ranges [low, high] of
// ids, sorted and apart. The first history opens the range that reaches the
// present (high = Infinity); older pages stretch the lowest range down; the
// messages around a replied-to one form a range of their own, with a gap
// above it until what lies between is loaded. A change to a message outside
// every range is not shown: the message is loaded in its current state
// when its part of the room is.

export class Segments {
  constructor() {
    this.ranges = [];
  }

  get started() {
    return this.ranges.length > 0;
  }

  covers(id) {
    return this.ranges.some((range) => range.low <= id && id <= range.high);
  }

  // The lowest id held throughout, or null before the first history.
  get lowest() {
    return this.ranges.length ? this.ranges[0].low : null;
  }

  // Every message with an id from ``low`` to ``high`` is held now.
  add(low, high) {
    let merged = { low, high };
    const apart = [];
    for (const range of this.ranges) {
      if (range.low <= merged.high && merged.low <= range.high) {
        merged = { low: Math.min(range.low, merged.low), high: Math.max(range.high, merged.high) };
      } else {
        apart.push(range);
      }
    }
    apart.push(merged);
    apart.sort((a, b) => a.low - b.low);
    this.ranges = apart;
  }

  // The highest id of each range with messages above it not yet loaded.
  gaps() {
    return this.ranges.slice(0, -1).map((range) => range.high);
  }

  // The range a gap above ``high`` closes into.
  above(high) {
    return this.ranges.find((range) => range.low > high) || null;
  }
}
