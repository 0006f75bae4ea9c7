"""No pages: the baseline is only its socket."""

urlpatterns: list[object] = []
