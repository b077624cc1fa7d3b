"""Plain-Python parsing of the same files: top-destinations with gzip and str.split, nothing else.

    python bench/baseline/plain_python.py FILES.json
"""

import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path


def main() -> None:
    groups = json.loads(Path(sys.argv[1]).read_text())
    totals = defaultdict(lambda: [0, 0, 0])
    for header, files in groups.items():
        names = header.split()
        i_dst, i_pk, i_by = names.index("dstaddr"), names.index("packets"), names.index("bytes")
        i_act, i_st = names.index("action"), names.index("log-status")
        for path in files:
            with gzip.open(path, "rt") as fh:
                next(fh, None)
                for line in fh:
                    v = line.split()
                    if v[i_st] != "OK" or v[i_act] != "ACCEPT":
                        continue
                    t = totals[v[i_dst]]
                    t[0] += 1
                    t[1] += int(v[i_pk])
                    t[2] += int(v[i_by])
    top = sorted(totals.items(), key=lambda kv: (-kv[1][2], kv[0]))[:10]
    print(len(top))


if __name__ == "__main__":
    main()
