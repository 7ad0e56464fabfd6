"""Choose which real-world cases are held back, by a fixed seed, stratified by expected cause.

Run once after adding cases and before running the classifier on them:
`python -m tests.realworld.split --apply` moves every case to `cases/` or `heldback/` as the seed
says; without `--apply` it only prints the moves it would make (the test suite checks there are
none). The cases are grouped by their first expected cause (negatives form one group), each group
is shuffled with the seed, the groups are laid end to end, and every third case goes to
`heldback/`, so each cause keeps about a third of its cases out of sight.
"""

from __future__ import annotations

import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SEED = 16_3
"""Issue 16, part 3. Changing it reshuffles the held-back set; never change it after a scoring run."""
PARTS = ("cases", "heldback")


def stratum(case_file: Path) -> str:
    data = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    if data.get("negative"):
        return "negative"
    return str(next(iter((data.get("expected") or {"?": "?"}).values())))


def assignment(root: Path = HERE) -> dict[str, str]:
    """Case id -> the part (`cases` or `heldback`) the seed puts it in."""
    groups: dict[str, list[str]] = defaultdict(list)
    for part in PARTS:
        for case_file in sorted((root / part).glob("*/case.yaml")):
            groups[stratum(case_file)].append(case_file.parent.name)
    rng = random.Random(SEED)
    order: list[str] = []
    for name in sorted(groups):
        ids = sorted(groups[name])
        rng.shuffle(ids)
        order.extend(ids)
    return {case_id: PARTS[1] if i % 3 == 2 else PARTS[0] for i, case_id in enumerate(order)}


def misplaced(root: Path = HERE) -> list[tuple[str, str, str]]:
    """(id, where it is, where the seed puts it) for every case in the wrong part."""
    where = {p.parent.name: part for part in PARTS for p in (root / part).glob("*/case.yaml")}
    return sorted((cid, where[cid], want) for cid, want in assignment(root).items() if where[cid] != want)


def main(argv: list[str]) -> int:
    moves = misplaced()
    for case_id, src, dst in moves:
        print(f"{case_id}: {src}/ -> {dst}/")
        if "--apply" in argv:
            (HERE / dst).mkdir(exist_ok=True)
            shutil.move(str(HERE / src / case_id), str(HERE / dst / case_id))
    if not moves:
        print("every case is where the seed puts it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
