#!/usr/bin/env python3
"""Summarise the boots of scripts/bench: a table on stdout, a JSON file and
a plot of mdev_unregister_parent() time against the number of children.

The kernel logs hold lines "BENCH <what> key=value ..." printed by the
vfio_mdev_bench KUnit suite (bench/vfio_mdev_bench.c); runs.txt lists the
boots as "<arch> <tree> <round> <log>" and "<arch> accel <accel>", where
<arch> names the measurement: um, x86_64, x86_64-icount (whose clock
counts instructions: accel tcg-icount).
"""

import argparse
import json
import random
import re
import statistics
import sys

BENCH = re.compile(r"BENCH (\w+)((?: \w+=-?\d+)*)\s*$")
TREES = ("base", "patched")


def parse_log(path):
    out = {"throughput": [], "unregister": [], "types": [], "storm": []}
    with open(path, errors="replace") as f:
        for line in f:
            m = BENCH.search(line.rstrip("\r\n"))
            if not m or m.group(1) not in out:
                continue
            kv = dict(p.split("=") for p in m.group(2).split())
            out[m.group(1)].append({k: int(v) for k, v in kv.items()})
    return out


def median(xs):
    return statistics.median(xs) if xs else None


def ratio(p, b):
    return p / b if p is not None and b else None


def devices_per_s(boot):
    return [t["count"] / (t["total_ns"] / 1e9) for t in boot["throughput"]]


def per_device_us(what):
    return lambda boot: [t[what + "_ns"] / t["count"] / 1e3 for t in boot["throughput"]]


def unregister_us(children):
    return lambda boot: [u["ns"] / 1e3 for u in boot["unregister"] if u["children"] == children]


def types_us(types, what):
    """what: "register" or "unregister" of a parent with that many types"""
    return lambda boot: [t[what + "_ns"] / 1e3 for t in boot["types"] if t["types"] == types]


def per_child(unreg):
    """Unregistration time per added child between consecutive child
    counts, from the medians: {"A-B": us per child}.  Linear growth gives
    the same cost per child between every two counts (from 1 child on: the
    step from 0 to 1 holds the first child's fixed costs)."""
    ns = sorted(int(n) for n in unreg if unreg[n]["median"] is not None)
    return {f"{a}-{b}": (unreg[str(b)]["median"] - unreg[str(a)]["median"]) / (b - a)
            for a, b in zip(ns, ns[1:]) if a > 0}


def storm_ms(boot):
    return [x["ns"] / 1e6 for x in boot["storm"]]


def samples(boots, key):
    """key's samples of every boot, in one list."""
    return [v for b in boots for v in key(b)]


def interval(base, patched, key, n=2000):
    """95% interval of median(patched)/median(base), by resampling whole
    boots (a boot's rounds vary less than boots do); key(boot) -> samples.
    base[i] and patched[i] were booted one after the other (round i), so
    rounds are resampled as pairs, which cancels a drift of the machine;
    an unequal number of boots falls back to resampling each alone.
    Seeded: the same logs give the same interval."""
    rng = random.Random(1)
    b = [key(x) for x in base]
    p = [key(x) for x in patched]
    paired = len(b) == len(p)
    if paired:
        pairs = [(x, y) for x, y in zip(b, p) if x and y]
    b, p = [x for x in b if x], [y for y in p if y]
    if not b or not p or (paired and not pairs):
        return None
    rs = []
    for _ in range(n):
        if paired:
            pick = rng.choices(pairs, k=len(pairs))
            gb, gp = [x for x, _ in pick], [y for _, y in pick]
        else:
            gb, gp = rng.choices(b, k=len(b)), rng.choices(p, k=len(p))
        mb = median([v for g in gb for v in g])
        mp = median([v for g in gp for v in g])
        if mb:
            rs.append(mp / mb)
    if len(rs) < n // 2:
        return None
    rs.sort()
    k = len(rs)
    return [rs[int(0.025 * k)], rs[int(0.975 * k) - 1]]


def summarise(boots):
    """boots: list of parsed logs of one (arch, tree)."""
    thr = [t for b in boots for t in b["throughput"]]
    devs = samples(boots, devices_per_s)
    create_us = samples(boots, per_device_us("create"))
    remove_us = samples(boots, per_device_us("remove"))
    counts = sorted({u["children"] for b in boots for u in b["unregister"]})
    unreg = {n: samples(boots, unregister_us(n)) for n in counts}
    ntypes = sorted({t["types"] for b in boots for t in b["types"]})
    types = {n: {w: samples(boots, types_us(n, w)) for w in ("register", "unregister")}
             for n in ntypes}
    storm = [s for b in boots for s in b["storm"]]
    ms = samples(boots, storm_ms)
    return {
        "boots": len(boots),
        "throughput": {
            "rounds": len(thr),
            "devices_per_s": devs,
            "median_devices_per_s": median(devs),
            "boot_medians": [m for m in (median(devices_per_s(b)) for b in boots)
                             if m is not None],
            "median_create_us": median(create_us),
            "median_remove_us": median(remove_us),
            "errors": sum(t["errors"] for t in thr),
        },
        "unregister_us": {
            str(n): {"samples": v, "median": median(v), "min": min(v), "max": max(v)}
            for n, v in sorted(unreg.items())
        },
        "types_us": {
            str(n): {w: {"samples": v, "median": median(v)} for w, v in t.items()}
            for n, t in sorted(types.items())
        },
        "storm": {
            "completed": len(storm),
            "unregister_ms": ms,
            "median_unregister_ms": median(ms),
            "max_unregister_ms": max(ms, default=None),
            "ops_during": [s["ops_during"] for s in storm],
            "ok_during": [s.get("ok_during") for s in storm if "ok_during" in s],
            "overlapped": sum(1 for s in storm if s["ops_during"] > 0),
            "ops_total": [s["ops_total"] for s in storm],
            "children": [s["children"] for s in storm],
            "cpus": storm[0]["cpus"] if storm else None,
            "min_cpus": min((x["cpus"] for x in storm), default=None),
            "storm_cpu": storm[0]["storm_cpu"] if storm else None,
            "unreg_cpu": storm[0]["unreg_cpu"] if storm else None,
        },
    }


def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def span(iv):
    return "-" if not iv else f"{iv[0]:.3f}-{iv[1]:.3f}"


def spread(xs):
    return "-" if not xs else f"{min(xs):,.0f}-{max(xs):,.0f}"


def table(results):
    rows = []
    for arch, a in results["arches"].items():
        b, p, iv = a["base"], a["patched"], a["interval"]
        cpus = b["storm"]["cpus"] if b["storm"]["cpus"] is not None else "?"
        label = arch if arch == "um" else f"{arch} ({a['accel']}, {cpus} CPUs)"
        if a["accel"] == "tcg-icount":
            label = label[:-1] + ": 1 ns = 1 instruction)"
        rows.append((label, "", "", "", ""))
        bt, pt = b["throughput"], p["throughput"]
        rows.append(("  create+remove, devices/s (median)",
                     fmt(bt["median_devices_per_s"]), fmt(pt["median_devices_per_s"]),
                     fmt(a["ratio"]["throughput"], 3), span(iv["throughput"])))
        rows.append(("  create+remove, devices/s (boot medians, min-max)",
                     spread(bt["boot_medians"]), spread(pt["boot_medians"]), "", ""))
        for what in ("create", "remove"):
            bm, pm = bt[f"median_{what}_us"], pt[f"median_{what}_us"]
            rows.append((f"  {what}, us/device (median)", fmt(bm, 1), fmt(pm, 1),
                         fmt(ratio(pm, bm), 3), span(iv[what])))
        for n in b["unregister_us"]:
            bu, pu = b["unregister_us"][n]["median"], p["unregister_us"].get(n, {}).get("median")
            kids = "child" if n == "1" else "children"
            rows.append((f"  unregister, {n} {kids}, us (median)", fmt(bu, 1), fmt(pu, 1),
                         fmt(ratio(pu, bu), 3), span(iv["unregister"].get(n))))
        bpc, ppc = a["base"]["per_child_us"], a["patched"]["per_child_us"]
        for k in bpc:
            rows.append((f"  unregister, us per child from {k.replace('-', ' to ')} children",
                         fmt(bpc[k], 1), fmt(ppc.get(k), 1), fmt(ratio(ppc.get(k), bpc[k]), 3), ""))
        for n in b["types_us"]:
            for w in ("register", "unregister"):
                bu = b["types_us"][n][w]["median"]
                pu = p["types_us"].get(n, {}).get(w, {}).get("median")
                kind = "type" if n == "1" else "types"
                rows.append((f"  {w}, {n} {kind}, no child, us (median)", fmt(bu, 1), fmt(pu, 1),
                             fmt(ratio(pu, bu), 3), span(iv["types"].get(n, {}).get(w))))
        bs, ps = b["storm"], p["storm"]
        # Under -icount one clock counts the instructions of both CPUs: the
        # storm's count in with the unregistration's, so no ratio.
        shared = a["accel"] == "tcg-icount"
        rows.append(("  storm: children when unregistration began (median)",
                     fmt(median(bs["children"])), fmt(median(ps["children"])), "", ""))
        rows.append(("  unregister during storm, ms (median)",
                     fmt(bs["median_unregister_ms"], 1), fmt(ps["median_unregister_ms"], 1),
                     "" if shared else
                     fmt(ratio(ps["median_unregister_ms"], bs["median_unregister_ms"]), 3),
                     "" if shared else span(iv["storm"])))
        rows.append(("  unregister during storm, ms (max)",
                     fmt(bs["max_unregister_ms"], 1), fmt(ps["max_unregister_ms"], 1), "", ""))
        rows.append(("  storm writes during unregistration (median)",
                     fmt(median(bs["ops_during"])), fmt(median(ps["ops_during"])), "", ""))
        rows.append(("  of which succeeded (median)",
                     fmt(median(bs["ok_during"])), fmt(median(ps["ok_during"])), "", ""))
        rows.append(("  storm writes in all (median)",
                     fmt(median(bs["ops_total"])), fmt(median(ps["ops_total"])), "", ""))
        rows.append(("  boots whose storm wrote during unregistration",
                     f"{bs['overlapped']}/{b['boots']}", f"{ps['overlapped']}/{p['boots']}",
                     "", ""))
        rows.append(("  boots whose unregistration finished",
                     f"{bs['completed']}/{b['boots']}", f"{ps['completed']}/{p['boots']}", "", ""))
    head = ("measurement", "base", "patched", "patched/base", "95% interval")
    w = [max(len(r[i]) for r in rows + [head]) for i in range(5)]
    lines = ["| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |",
             "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    for r in rows:
        lines.append("| " + r[0].ljust(w[0]) + " | " +
                     " | ".join(r[i].rjust(w[i]) for i in range(1, 5)) + " |")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arches = list(results["arches"])
    fig, axes = plt.subplots(1, len(arches), figsize=(6 * len(arches), 4.5), squeeze=False)
    for ax, arch in zip(axes[0], arches):
        a = results["arches"][arch]
        for tree, style in (("base", "o-"), ("patched", "s--")):
            u = a[tree]["unregister_us"]
            xs = [int(n) for n in u]
            med = [u[n]["median"] for n in u]
            lo = [u[n]["median"] - u[n]["min"] for n in u]
            hi = [u[n]["max"] - u[n]["median"] for n in u]
            ax.errorbar(xs, med, yerr=[lo, hi], fmt=style, capsize=3,
                        label=f"{tree} (median, min-max)")
        ax.set_xscale("symlog", linthresh=1)
        ax.set_yscale("log")
        ax.set_xticks([0, 1, 10, 100, 1000])
        ax.set_xticklabels(["0", "1", "10", "100", "1000"])
        cpus = a["base"]["storm"]["cpus"]
        title = arch if arch == "um" else f"{arch}, QEMU {a['accel']}, {cpus} CPUs"
        if a["accel"] == "tcg-icount":
            title = f"{arch}: QEMU TCG, {cpus} CPUs,\ntime in instructions (-icount shift=0)"
        ax.set_title(f"mdev_unregister_parent(): {title}")
        ax.set_xlabel("children (mdevs) at unregistration")
        ax.set_ylabel("time (us); 1 us = 1000 instructions" if a["accel"] == "tcg-icount"
                      else "time (us)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--png", help="the plot; none without this option")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--boots", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--base", default="")
    ap.add_argument("--fixes", default="")
    args = ap.parse_args()

    boots, accel, order = {}, {}, {}
    with open(args.runs) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[1] == "accel":
                accel[parts[0]] = parts[2]
            elif len(parts) == 4:
                arch, tree, rnd, log = parts
                boots.setdefault(arch, {t: [] for t in TREES})[tree].append(parse_log(log))
                order.setdefault(arch, []).append(f"{tree}{rnd}")

    results = {
        "base_commit": args.base,
        "fix_patches": args.fixes.split(),
        "boots": args.boots,
        "rounds_per_boot": args.rounds,
        "count": args.count,
        "arches": {},
    }
    bad = 0
    for arch, trees in boots.items():
        a = {t: summarise(trees[t]) for t in TREES}
        a["accel"] = accel.get(arch, "none" if arch == "um" else "?")
        a["boot_order"] = order[arch]
        bt, pt = a["base"]["throughput"], a["patched"]["throughput"]
        a["ratio"] = {
            "throughput": ratio(pt["median_devices_per_s"], bt["median_devices_per_s"]),
            "create": ratio(pt["median_create_us"], bt["median_create_us"]),
            "remove": ratio(pt["median_remove_us"], bt["median_remove_us"]),
            "storm": ratio(a["patched"]["storm"]["median_unregister_ms"],
                           a["base"]["storm"]["median_unregister_ms"]),
            "unregister": {n: ratio(a["patched"]["unregister_us"].get(n, {}).get("median"),
                                    a["base"]["unregister_us"][n]["median"])
                           for n in a["base"]["unregister_us"]},
        }
        bb, pb = trees["base"], trees["patched"]
        for t in TREES:
            a[t]["per_child_us"] = per_child(a[t]["unregister_us"])
        a["ratio"]["types"] = {
            n: {w: ratio(a["patched"]["types_us"].get(n, {}).get(w, {}).get("median"),
                         a["base"]["types_us"][n][w]["median"])
                for w in ("register", "unregister")}
            for n in a["base"]["types_us"]}
        a["interval"] = {
            "throughput": interval(bb, pb, devices_per_s),
            "create": interval(bb, pb, per_device_us("create")),
            "remove": interval(bb, pb, per_device_us("remove")),
            "unregister": {n: interval(bb, pb, unregister_us(int(n)))
                           for n in a["base"]["unregister_us"]},
            "storm": interval(bb, pb, storm_ms),
            "types": {n: {w: interval(bb, pb, types_us(int(n), w))
                          for w in ("register", "unregister")}
                      for n in a["base"]["types_us"]},
        }
        results["arches"][arch] = a
        if arch != "um":
            for t in TREES:
                cpus = a[t]["storm"]["min_cpus"]
                if cpus is not None and cpus < 2:
                    print(f"{arch} {t}: the kernel ran on {cpus} CPU, the storm needs a CPU "
                          "of its own (CONFIG_SMP, -smp 2)", file=sys.stderr)
                    bad = 1
        for t in TREES:
            if a[t]["storm"]["completed"] != a[t]["boots"] or a[t]["boots"] == 0:
                print(f"{arch} {t}: {a[t]['storm']['completed']} of {a[t]['boots']} boots "
                      "report a completed unregistration under the storm", file=sys.stderr)
                bad = 1

    if not results["arches"]:
        print("no boot to report", file=sys.stderr)
        return 1
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(table(results))
    r = [f"{arch} {a['ratio']['throughput']:.3f} ({span(a['interval']['throughput'])})"
         for arch, a in results["arches"].items()
         if a["ratio"]["throughput"] is not None]
    print("throughput ratio patched/base, median (95% interval) "
          f"(target >= 0.99 in instructions, not asserted): {', '.join(r)}")
    for arch, a in results["arches"].items():
        if a["accel"] != "tcg-icount":
            continue
        c = [f"{w} {a['ratio'][w]:.3f} ({span(a['interval'][w])})"
             for w in ("create", "remove") if a["ratio"][w] is not None]
        if c:
            print(f"{arch}: instructions per device patched/base, median (95% interval) "
                  f"(target <= 1.01, not asserted): {', '.join(c)}")
    for arch, a in results["arches"].items():
        pc = [f"{t} " + " ".join(f"{v:,.1f}" for v in a[t]["per_child_us"].values())
              for t in TREES if a[t]["per_child_us"]]
        if pc:
            steps = ", ".join(a["base"]["per_child_us"])
            print(f"{arch}: unregistration, us per child between {steps} children "
                  f"(linear: equal steps): {'; '.join(pc)}")
    if args.png:
        plot(results, args.png)
    return bad


if __name__ == "__main__":
    sys.exit(main())
