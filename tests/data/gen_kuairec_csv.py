#!/usr/bin/env python3
"""Writes a synthetic small_matrix-shaped KuaiRec CSV (for load-time/memory measurements).

    python3 tests/data/gen_kuairec_csv.py OUT.csv [ROWS] [USERS]

Rows go user by user (as in the real file); items per user = ceil(ROWS / USERS), so the default
4,676,570 rows x 1,411 users gives a 1,411 x 3,315 (nearly dense) table. ~1 in 500 rows has empty
time/date/timestamp and `date` is written `20200705.0`, like the real file. Values are invented.
Standard library only (no numpy), deterministic.
"""
import math
import sys


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    rows = int(argv[2]) if len(argv) > 2 else 4676570
    users = int(argv[3]) if len(argv) > 3 else 1411
    per_user = math.ceil(rows / users)
    written = 0
    state = 12345
    with open(out, "w", newline="") as f:
        f.write("user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n")
        buf = []
        for u in range(users):
            for k in range(per_user):
                if written == rows:
                    break
                state = (state * 1103515245 + 12345) & 0x7FFFFFFF
                item = (k * 7 + u) % per_user * 3 + 1
                vdur = 3000 + state % 20000
                play = (state >> 7) % 40000
                ts = 1593878400 + written // 3
                if state % 500 == 0:
                    buf.append("%d,%d,%d,%d,,,,%r\n" % (u, item, play, vdur, play / vdur))
                else:
                    sec = ts % 86400
                    buf.append("%d,%d,%d,%d,2020-07-%02d %02d:%02d:%02d.%03d,202007%02d.0,%d.%03d,%r\n" % (
                        u, item, play, vdur, 5 + ts // 86400 % 20, sec // 3600, sec // 60 % 60,
                        sec % 60, state % 1000, 5 + ts // 86400 % 20, ts, state % 1000,
                        play / vdur))
                written += 1
                if len(buf) >= 100000:
                    f.write("".join(buf))
                    buf = []
        f.write("".join(buf))
    print("wrote %d rows, %d users x %d items per user to %s" % (written, users, per_user, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
