"""An attacker for the withheld counts: what subtraction recovers from what a page shows.

Written apart from store/privacy.py on purpose: it knows only what a reader knows —
the shown numbers, what each mark means ("<5": 0 to 4, "*": withheld, any size, a
missing number: anything from 0), which numbers add up to which (a total and its breakdown,
shown on one page or spread over several) — and tightens every number's possible
range by subtraction until nothing moves. A withheld count whose range shrinks to one
value has been recovered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from store.privacy import is_withheld

INF = math.inf


@dataclass
class Sheet:
    """Everything one viewer can read, as variables (named by what they count) and sums."""

    threshold: int
    truth: dict = field(default_factory=dict)      # variable -> its real value
    bounds: dict = field(default_factory=dict)     # variable -> (low, high) as the reader knows it
    withheld: set = field(default_factory=set)     # variables shown as a mark: must stay unknown
    empty: set = field(default_factory=set)        # empty groups: no secret, though a mark hides them
    sums: list = field(default_factory=list)       # (total, parts): total == sum(parts)

    def _narrow(self, var, low, high) -> None:
        old = self.bounds.get(var, (0, INF))
        self.bounds[var] = (max(old[0], low), min(old[1], high))

    def shown(self, var, value, truth=None) -> None:
        """`var` as the page shows it: a number, a mark, None (not shown) — on any page."""
        if truth is not None:
            assert self.truth.setdefault(var, truth) == truth, (var, truth, self.truth[var])
        if is_withheld(value):
            if str(value).startswith("<"):
                self._narrow(var, 0, self.threshold - 1)
            else:
                self._narrow(var, 0, INF)
            self.withheld.add(var)
        elif value is not None and not (isinstance(value, float) and math.isnan(value)):
            self._narrow(var, int(value), int(value))
        else:
            self._narrow(var, 0, INF)

    def secret(self, var, truth: int) -> None:
        """A count no page shows that must not be recovered either (a small group's size)."""
        self.shown(var, None, truth)
        self.withheld.add(var)

    def empty_group(self, var) -> None:
        """An empty group discloses nobody: recovering its 0 is no finding (its mark still
        hides from the reader that it is empty)."""
        self.empty.add(var)

    def known(self, var, truth: int) -> None:
        """Something the reader may learn elsewhere (worst case): given exactly."""
        self.shown(var, truth, truth)

    def total(self, total, parts) -> None:
        parts = list(parts)
        for var in (total, *parts):
            self._narrow(var, 0, INF)
        self.sums.append((total, parts))

    def attack(self) -> dict:
        """Subtraction until nothing moves; returns {variable: recovered value} for withheld ones."""
        # An empty total empties its parts, and empty parts an empty total: no secrets either.
        public = set(self.empty) | {v for v, (lo, hi) in self.bounds.items() if hi == 0 and v not in self.withheld}
        grew = True
        while grew:
            grew = False
            for total, parts in self.sums:
                if total in public and not public.issuperset(parts):
                    public.update(parts)
                    grew = True
                elif total not in public and public.issuperset(parts):
                    public.add(total)
                    grew = True
        withheld = self.withheld - public
        b = dict(self.bounds)
        changed = True
        while changed:
            changed = False
            for total, parts in self.sums:
                lo_sum = sum(b[p][0] for p in parts)
                hi_sum = sum(b[p][1] for p in parts)
                t_lo, t_hi = max(b[total][0], lo_sum), min(b[total][1], hi_sum)
                if (t_lo, t_hi) != b[total]:
                    b[total], changed = (t_lo, t_hi), True
                for p in parts:
                    lo, hi = b[p]
                    new = (max(lo, t_lo - (hi_sum - hi)), min(hi, t_hi - (lo_sum - lo)))
                    if new != (lo, hi):
                        b[p], changed = new, True
                        lo_sum += new[0] - lo
                        hi_sum += new[1] - hi
        for var, (lo, hi) in b.items():
            # The reader's picture must hold the truth, or the marks lied.
            if var in self.truth:
                assert lo <= self.truth[var] <= hi, (var, (lo, hi), self.truth[var])
        return {v: b[v][0] for v in withheld if b[v][0] == b[v][1]}
