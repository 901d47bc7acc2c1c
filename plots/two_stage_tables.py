#!/usr/bin/env python3
"""The result tables of docs/two-stage.md, generated from runs (so the doc says what the code
produces): Fig. 3 panel (a) and (b) from experiments/two_stage/fig3.toml, the R^N / R^R shares from
experiments/two_stage/nominator_count.toml. Regret at T, mean ± 2 SE over replications.

    stagesim run experiments/two_stage/fig3.toml --out out/fig3.h5
    stagesim run experiments/two_stage/nominator_count.toml --out out/nc.h5
    python3 plots/two_stage_tables.py --fig3 out/fig3.h5 --nominator-count out/nc.h5 \\
        --update docs/two-stage.md          # rewrite the generated blocks in place
    python3 plots/two_stage_tables.py ... --check docs/two-stage.md
                                            # compare the cells the inputs have (e.g. a short
                                            # run of a few grid points) with the doc; exit 1 on
                                            # any difference

Blocks in the doc are delimited by '<!-- two_stage_tables.py NAME: begin ... -->' and
'<!-- two_stage_tables.py NAME: end -->' (NAME: panel_a, panel_b, nominator_count).
"""
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import numpy as np  # noqa: E402

import stagesim  # noqa: E402

LETTER = {"linucb": "U", "greedy": "G", "random": "R"}
TWO_STAGE = ["U+U", "U+G", "G+U", "G+G"]
KS = [10, 100, 1000]
D_OVER_S = [1, 2, 5, 10]


def describe(cfg):
    """(K, d, s, N or None, system) of a task of fig3.toml / nominator_count.toml."""
    world, stages = cfg["world"], cfg["stages"]
    K, d = int(world["items"]), int(world["dim"])
    nom = stages["nominators"]
    s = nom["features"] if isinstance(nom["features"], int) else len(nom["features"][0])
    s = s or d
    rk = stages.get("ranker")
    if rk is None:
        return K, d, s, None, LETTER[nom["type"]]
    return K, d, s, int(nom["replicas"]), LETTER[rk["type"]] + "+" + LETTER[nom["type"]]


def final_values(paths, series):
    """{(K, d, s, N, system): {series: values at T over replications}}; identical configurations
    (single-stage systems at several N) are taken once."""
    out = {}
    for p in paths:
        res = stagesim.open(p)
        present = [x for x in series if x in res.series]
        last = {x: res.values(x)[:, :, -1] for x in present}
        for t in range(len(res.tasks)):
            key = describe(res.config(t))
            ok = res.done[t]
            if not ok.any() or key in out:
                continue
            out[key] = {x: last[x][t][ok] for x in present}
    return out


def ms(v):
    m, se, _ = stagesim.mean_se(np.asarray(v, dtype=float), axis=0)
    return float(m), float(se)


def fmt_int(x):
    return f"{x:.0f}"


class Table:
    """Rows × columns of text cells (None = not in the inputs), rendered as Markdown."""

    def __init__(self, keys, columns):
        self.keys, self.columns, self.rows = keys, columns, {}

    def set(self, row, col, text):
        self.rows.setdefault(row, {})[col] = text

    def markdown(self):
        lines = ["| " + " | ".join(self.keys + self.columns) + " |",
                 "|" + "---|" * (len(self.keys) + len(self.columns))]
        for row, cells in self.rows.items():
            lines.append("| " + " | ".join(list(row) + [cells.get(c) or "—" for c in self.columns])
                         + " |")
        return "\n".join(lines)


def panel_a(cells, N=5):
    t = Table(["K", "d/s"], [f"d = {d}: U / two-stage" for d in (10, 20, 40)])
    g_gap, se_ratio, gain = [], [], []
    for K in KS:
        for r in D_OVER_S:
            for d in (10, 20, 40):
                s = d // r
                u = cells.get((K, d, s, None, "U"))
                two = [cells.get((K, d, s, N, x)) for x in TWO_STAGE]
                if u is None or any(x is None for x in two):
                    continue
                um, use = ms(u["regret"])
                means = [ms(x["regret"])[0] for x in two]
                t.set((str(K), str(r)), f"d = {d}: U / two-stage",
                      f"{fmt_int(um)} ± {fmt_int(2 * use)} / "
                      f"{fmt_int(min(means))}–{fmt_int(max(means))}")
                g = cells.get((K, d, s, None, "G"))
                if d > s:
                    if g is not None:
                        g_gap.append(abs(ms(g["regret"])[0] - um) / um)
                    se_ratio += [use / ms(x["regret"])[1] for x in two]
                    gain += [um / m for m in means]
    notes = []
    if g_gap:
        notes.append(f"G is within {math.ceil(100 * max(g_gap))} % of it wherever d > s")
    if se_ratio:
        notes.append(f"their standard errors are {min(se_ratio):.0f}–{max(se_ratio):.0f} times "
                     "smaller than the single-stage ones")
    caption = (f"Panel (a), N = {N}: single-stage U ({notes[0] if notes else ''}) and the range "
               "of the four two-stage systems' means"
               + (f" ({notes[1]})" if len(notes) > 1 else "") + ":")
    after = (f"Where d > s the two-stage systems' regret is {min(gain):.1f}–{max(gain):.1f} times "
             "lower than single-stage U's." if gain else "")
    return caption, t, after


def panel_b(cells, d=40, Ns=(2, 5, 10, 20), ratios=(2, 10)):
    t = Table(["K", "d/s"], [f"N = {n}" for n in Ns])
    gaps = []
    for K in KS:
        for r in ratios:
            for n in Ns:
                uu = cells.get((K, d, d // r, n, "U+U"))
                if uu is None:
                    continue
                m, se = ms(uu["regret"])
                t.set((str(K), str(r)), f"N = {n}", f"{fmt_int(m)} ± {fmt_int(2 * se)}")
                for x in TWO_STAGE[1:]:
                    o = cells.get((K, d, d // r, n, x))
                    if o is not None:
                        om, ose = ms(o["regret"])
                        if math.hypot(se, ose) > 0:
                            gaps.append(abs(om - m) / math.hypot(se, ose))
    caption = (f"Panel (b), d = {d}, U+U (the other three two-stage systems are within "
               f"{max(gaps):.1f} combined standard errors of it):" if gaps else
               f"Panel (b), d = {d}, U+U:")
    return caption, t


def nominator_count(cells, d=40, Ns=(1, 2, 5, 10, 20, 50, 100)):
    t = Table(["K, s"], [f"N = {n}" if i == 0 else str(n) for i, n in enumerate(Ns)])
    cols = dict(zip(Ns, t.columns))
    share_se, rr = [], {}
    for K, s, what in ((100, 10, "R"), (100, 10, "share"), (100, 20, "share"),
                       (1000, 10, "share"), (1000, 20, "share")):
        label = f"{K}, {s}: R" if what == "R" else f"{K}, {s}: R^N / R"
        for n in Ns:
            c = cells.get((K, d, s, n, "U+U"))
            if c is None or "regret_nominators" not in c:
                continue
            R = c["regret"]
            if what == "R":
                t.set((label,), cols[n], fmt_int(ms(R)[0]))
                rr[n] = ms(c["regret_ranker"])[0]
            else:
                share = np.where(R > 0, c["regret_nominators"] / np.where(R > 0, R, 1), 0.0)
                m, se = ms(share)
                t.set((label,), cols[n], f"{m:.2f}")
                share_se.append(2 * se)
    note = []
    if rr:
        lo, hi = min(rr), max(rr)
        note.append(f"R^R at T is {rr[lo]:.0f} at N = {lo} and {rr[hi]:.0f} at N = {hi} "
                    "(K = 100, s = 10)")
    if share_se:
        note.append(f"shares are means of per-replication shares, ± 2 SE ≤ {max(share_se):.3f}")
    return "(" + "; ".join(note) + ".)" if note else "", t


def blocks(fig3, nc):
    out = {}
    if fig3:
        cells = final_values(fig3, ["regret"])
        out["panel_a"] = panel_a(cells)
        cap, t = panel_b(cells)
        out["panel_b"] = (cap, t, "")
    if nc:
        cells = final_values(nc, ["regret", "regret_nominators", "regret_ranker"])
        after, t = nominator_count(cells)
        out["nominator_count"] = ("", t, after)
    return out


def begin_re(name):
    return re.compile(rf"<!-- two_stage_tables\.py {name}: begin[^>]*-->\n(.*?)"
                      rf"<!-- two_stage_tables\.py {name}: end -->", re.S)


def render(name, block, sources):
    cap, t, after = block
    body = "\n\n".join(x for x in (cap, t.markdown(), after) if x)
    return (f"<!-- two_stage_tables.py {name}: begin (generated from {sources}; edit the script "
            f"and rerun it, not this text) -->\n{body}\n<!-- two_stage_tables.py {name}: end -->")


def parse_table(text):
    """{(row keys..., column): cell} of the Markdown table in a block, and the key count."""
    lines = [x for x in text.splitlines() if x.startswith("|")]
    if len(lines) < 2:
        return {}
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    keys = sum(1 for c in header if not c.startswith(("d = ", "N = ")) and not c.isdigit())
    cells = {}
    for line in lines[2:]:
        parts = [c.strip() for c in line.strip("|").split("|")]
        for col, cell in zip(header[keys:], parts[keys:]):
            cells[tuple(parts[:keys]) + (col,)] = cell
    return cells


def check(doc, generated):
    with open(doc) as fh:
        text = fh.read()
    compared, bad = 0, []
    for name, (_, t, _) in generated.items():
        m = begin_re(name).search(text)
        if not m:
            bad.append(f"{doc}: no generated block '{name}'")
            continue
        documented = parse_table(m.group(1))
        for row, cells in t.rows.items():
            for col, cell in cells.items():
                key = row + (col,)
                compared += 1
                if documented.get(key) != cell:
                    bad.append(f"{name} {', '.join(row)} / {col}: doc says "
                               f"{documented.get(key)!r}, the run gives {cell!r}")
    return compared, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--fig3", nargs="*", default=[], help="results of fig3.toml (or a subset)")
    ap.add_argument("--nominator-count", nargs="*", default=[],
                    help="results of nominator_count.toml (or a subset)")
    ap.add_argument("--update", metavar="DOC", help="rewrite the generated blocks of DOC")
    ap.add_argument("--check", metavar="DOC", help="compare the cells of the inputs with DOC")
    args = ap.parse_args()
    generated = blocks(args.fig3, args.nominator_count)
    if not generated:
        raise SystemExit("give --fig3 and/or --nominator-count result files")
    if args.check:
        compared, bad = check(args.check, generated)
        for b in bad:
            print("MISMATCH", b)
        print(f"{compared} cells compared, {len(bad)} differ")
        sys.exit(1 if bad or compared == 0 else 0)
    sources = {"panel_a": "experiments/two_stage/fig3.toml",
               "panel_b": "experiments/two_stage/fig3.toml",
               "nominator_count": "experiments/two_stage/nominator_count.toml"}
    if args.update:
        with open(args.update) as fh:
            text = fh.read()
        for name, block in generated.items():
            new = render(name, block, sources[name])
            if not begin_re(name).search(text):
                raise SystemExit(f"{args.update}: no block '{name}' to replace; add the markers")
            text = begin_re(name).sub(lambda _m: new, text)
        with open(args.update, "w") as fh:
            fh.write(text)
        print(f"updated {', '.join(generated)} in {args.update}")
    else:
        for name, block in generated.items():
            print(render(name, block, sources[name]) + "\n")


if __name__ == "__main__":
    main()
