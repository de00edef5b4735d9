"""Leave one set out: would the defaults have been chosen without the set
they are scored on?

    python benchmarks/loso.py                # thresholds_loso.json, thresholds_cost.json
    python benchmarks/loso.py --study thresholds_loso --quality quality
    python benchmarks/loso.py --study thresholds_auto_lr --name loso_auto_lr
    python benchmarks/loso.py --study thresholds_patience --name loso_patience --cheapest

Reads a study of variants of the default (``benchmarks/thresholds.py``,
mean macro-F1 over seeds per set and variant) and, for each shared set in
turn, picks the variant with the best mean rank of macro-F1 over the *other*
sets (ties go to the default), then reports that variant's macro-F1 on the
held-out set beside the default's, the best variant in hindsight and the best
peer of the quality benchmark (``benchmarks/run.py``; the mean over seeds
for a model it ran over several). A rule
(a default) that wins in-sample but is not chosen out of sample, or loses
there, is one tuned to the shared sets. With ``--cheapest`` it also makes
the choice for a change made for cost alone: the variant with the lowest fit
time among those that score at least the default on each of the other sets.
Writes benchmarks/results/loso.{md,json}.
"""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

DEFAULT = "default"


def _ranks(scores):
    """Rank of each variant on one set (1 = best; ties share the mean rank)."""
    names = list(scores)
    values = np.array([scores[n] for n in names])
    order = (-values).argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):  # ties share their mean rank
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return dict(zip(names, ranks))


def choose(study, held_out, ratios=None, budget=None):
    """The variant with the best mean rank over every set but ``held_out``.

    With a ``budget``, only the variants whose fit time over the default's
    (``ratios`` by set and variant), averaged over those sets, is at most
    ``budget`` compete: the choice a cost bar allows, made without the
    held-out set too.
    """
    others = [s for s in study if s != held_out]
    variants = [v for v in study[others[0]] if all(v in study[s] for s in others)]
    if budget is not None:
        variants = [v for v in variants
                    if np.mean([ratios[s][v] for s in others]) <= budget]
    ranks = {v: 0.0 for v in variants}
    for data in others:
        for v, r in _ranks({v: study[data][v] for v in variants}).items():
            ranks[v] += r / len(others)
    best = min(ranks.values())
    tied = [v for v in variants if ranks[v] == best]
    return (DEFAULT if DEFAULT in tied else tied[0]), ranks


def cheapest_without_loss(study, held_out, ratios):
    """The variant of the lowest mean fit time over the default's on every set
    but ``held_out``, among those whose macro-F1 on each of those sets is at
    least the default's: the choice of a change made for cost alone, which
    may cost no quality where it is chosen. The default where no other
    qualifies or none is cheaper. Returns it and the mean fit-time ratio of
    each variant that qualified."""
    others = [s for s in study if s != held_out]
    variants = [v for v in study[others[0]] if all(v in study[s] for s in others)]
    # (a tolerance for float rounding only: equal fits give equal means)
    kept = [v for v in variants
            if all(study[s][v] >= study[s][DEFAULT] - 1e-9 for s in others)]
    costs = {v: float(np.mean([ratios[s][v] for s in others])) for v in kept}
    chosen = min(costs, key=costs.get)
    return (chosen if costs[chosen] < costs[DEFAULT] else DEFAULT), costs


def leave_one_out(study, quality=None, ratios=None, budget=None, cheapest=False):
    """Per held-out set: the variant chosen on the others, its score and (given
    ``ratios``, fit time over the default's by set and variant) its fit time
    over the default's, the default's score, the best variant in hindsight
    and the best peer; ``budget`` as :func:`choose` takes it, and
    ``cheapest`` chooses by :func:`cheapest_without_loss` instead."""
    rows = {}
    for data in study:
        if cheapest:
            chosen, costs = cheapest_without_loss(study, data, ratios)
            basis = {"mean_fit_ratio_on_others": costs}
        else:
            chosen, ranks = choose(study, data, ratios, budget)
            basis = {"mean_rank_on_others": ranks}
        scores = study[data]
        hindsight = max(scores, key=scores.get)
        row = {"chosen": chosen, "chosen_macro_f1": scores[chosen],
               "default_macro_f1": scores[DEFAULT], "best_variant": hindsight,
               "best_variant_macro_f1": scores[hindsight], **basis}
        if ratios:
            row["chosen_fit_ratio"] = ratios[data][chosen]
        best_peer = _best_peer(quality, data)
        if best_peer:
            row.update(best_peer=best_peer[0], best_peer_macro_f1=best_peer[1])
        rows[data] = row
    return rows


def _best_peer(quality, data):
    """``(name, macro-F1)`` of the best peer on set ``data`` in the quality
    benchmark's results (None without them)."""
    peers = {m: r["macro_f1"] for m, r in (quality or {}).get(data, {}).items()
             if "error" not in r and not m.startswith("mlk")}
    if not peers:
        return None
    best = max(peers, key=peers.get)
    return best, peers[best]


def _quality(stem="quality"):
    """The quality benchmark's saved ``(results, meta)``, or ``(None, None)``."""
    path = report.RESULTS / f"{stem}.json"
    if not path.exists():
        return None, None
    data = json.loads(path.read_text())
    return data["results"], data["meta"]


def _means(results, figure="macro_f1"):
    """Mean ``figure`` by set and variant of a study's results."""
    return {data: {v: r[figure]["mean"] for v, r in variants.items() if "error" not in r}
            for data, variants in results.items()}


def study_table(results, meta):
    """Mean macro-F1 per set and variant of a study's report, and each
    variant's mean rank over the sets (best of each column in bold)."""
    study = _means(results)
    sets = list(study)
    variants = [v for v in study[sets[0]] if all(v in study[s] for s in sets)]
    ranks = {v: np.mean([_ranks({w: study[s][w] for w in variants})[v] for s in sets])
             for v in variants}
    earlier = meta.get("merged_from")
    merged = ("" if not earlier else " The variants it did not run come from, in order: "
              + "; ".join(f"`{c}`" for c in earlier) + ".")
    lines = [f"`{meta['command']}` ({meta['date']}); mean over {meta.get('seeds', 1)} "
             f"seeds.{merged} Best of each column in bold.", "",
             "| variant | " + " | ".join(sets) + " | mean rank |",
             "|---|" + "---|" * (len(sets) + 1)]
    best_rank = min(ranks.values())
    for v in sorted(variants, key=ranks.get):
        cells = [(f"**{study[s][v]:.3f}**" if study[s][v] == max(study[s][w] for w in variants)
                  else f"{study[s][v]:.3f}") for s in sets]
        rank = f"{ranks[v]:.1f}"
        lines.append(f"| {v} | " + " | ".join(cells)
                     + f" | {'**' + rank + '**' if ranks[v] == best_rank else rank} |")
    return "\n".join(lines)


def study_beside_peers(results, meta, quality=None):
    """:func:`study_table`, then per set each variant's fit time over the
    default's (of the same run) and the best peer of the quality benchmark
    (its saved results unless ``quality`` is given)."""
    if quality is None:
        quality, _ = _quality()
    means, seconds = _means(results), _means(results, "fit_seconds")
    variants = [v for v in means[next(iter(means))] if v != DEFAULT]
    lines = [study_table(results, meta), "",
             "Fit time over the default's, and the best peer's macro-F1 (the quality "
             "benchmark, `python benchmarks/run.py`):", "",
             "| set | " + " | ".join(f"{v}: fit time / default's" for v in variants)
             + " | best peer |",
             "|---|" + "---|" * (len(variants) + 1)]
    for data in means:
        peer = _best_peer(quality, data)
        ratios = [f"{seconds[data][v] / seconds[data][DEFAULT]:.2f}x" for v in variants]
        lines.append(f"| {data} | " + " | ".join(ratios)
                     + f" | {f'{peer[1]:.3f} {peer[0]}' if peer else 'not run'} |")
    return "\n".join(lines)


def table(rows, meta, budget=None, cheapest=False):
    if cheapest:
        intro = ("For cost alone: each set held out in turn, among the variants whose "
                 "macro-F1 on each of the other sets is at least the default's, the one "
                 "whose fit time, averaged over those sets, is the lowest fraction of "
                 "the default's, scored on the held-out one.")
    elif budget is None:
        commands = "; ".join(f"`{c}`" for c in meta["study_commands"])
        intro = (
            "Each set held out in turn: the variant with the best mean macro-F1 rank on "
            f"the other sets, scored on the held-out one ({commands}, mean over "
            f"{meta['seeds']} seeds; best peer from `{meta['quality_command']}`, "
            "the mean over seeds where it ran several). Fit times are ratios to the "
            "default measured in the same run." + (
                " A study that merges several runs (see its table) may compare times "
                "measured in different runs." if meta.get("study_merged") else ""))
    else:
        intro = ("Within a fit-time budget: each set held out in turn, among the variants "
                 "whose fit time, averaged over the other sets, is at most "
                 f"{budget:g} times the default's, the one with the best mean macro-F1 "
                 "rank there, scored on the held-out one.")
    lines = [intro, "",
             "| held-out set | chosen on the others | its macro-F1 | its fit time "
             "/ default's | default | best variant in hindsight | best peer |",
             "|---|---|---|---|---|---|---|"]
    for data, r in rows.items():
        peer = (f"{r['best_peer_macro_f1']:.3f} {r['best_peer']}" if "best_peer" in r
                else "n/a")
        ratio = (f"{r['chosen_fit_ratio']:.2f}x" if "chosen_fit_ratio" in r else "n/a")
        lines.append(f"| {data} | {r['chosen']} | {r['chosen_macro_f1']:.3f} | {ratio} "
                     f"| {r['default_macro_f1']:.3f} | {r['best_variant_macro_f1']:.3f} "
                     f"{r['best_variant']} | {peer} |")
    kept = sum(r["chosen"] == DEFAULT for r in rows.values())
    lines += ["", f"The default is chosen on {kept} of {len(rows)} held-out sets."]
    return "\n".join(lines)


STUDIES = ("thresholds_loso", "thresholds_cost")
# The cost-bound choice: variants no slower than the default on average.
BUDGET = 1.0


def merged_study(stems):
    """Mean macro-F1 and fit-time ratio to the default (of the same run) by
    set and variant, over several studies' reports (a variant in more than
    one comes from the first), and their reports' metadata."""
    study, ratios, metas = {}, {}, []
    for stem in stems:
        data = json.loads((report.RESULTS / f"{stem}.json").read_text())
        metas.append(data["meta"])
        means = _means(data["results"])
        seconds = _means(data["results"], "fit_seconds")
        for name, variants in means.items():
            for v, score in variants.items():
                if v in study.setdefault(name, {}):
                    continue
                study[name][v] = score
                ratios.setdefault(name, {})[v] = seconds[name][v] / seconds[name][DEFAULT]
    return study, ratios, metas


def compute(study_stems=STUDIES, quality_stem="quality", budget=BUDGET, cheapest=False):
    """Both choices, ``{"best": rows, "within_budget": rows}``, and the meta;
    with ``cheapest``, the choice for cost alone as well
    (``"cheapest_without_loss"``)."""
    study, ratios, metas = merged_study(study_stems)
    quality, quality_meta = _quality(quality_stem)
    rows = {"best": leave_one_out(study, quality, ratios),
            "within_budget": leave_one_out(study, quality, ratios, budget)}
    if cheapest:
        rows["cheapest_without_loss"] = leave_one_out(study, quality, ratios,
                                                      cheapest=True)
    seeds = {m.get("seeds", 1) for m in metas}
    if len(seeds) != 1:
        raise SystemExit(f"The studies {study_stems} have different seeds: {seeds}.")
    meta = {"study_commands": [m["command"] for m in metas],
            "study_merged": any(m.get("merged_from") for m in metas),
            "seeds": seeds.pop(),
            "quality_command": quality_meta["command"] if quality_meta else "n/a",
            "budget": budget}
    return rows, meta


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", nargs="+", default=list(STUDIES),
                        help="the studies' report stems, merged")
    parser.add_argument("--quality", default="quality")
    parser.add_argument("--out", default=str(report.RESULTS))
    parser.add_argument("--name", default="loso", help="file stem of the report")
    parser.add_argument("--cheapest", action="store_true",
                        help="also the choice for cost alone: the cheapest variant "
                             "that loses on none of the other sets")
    args = parser.parse_args(argv)
    results, meta = compute(args.study, args.quality, cheapest=args.cheapest)
    meta.update(report.run_meta("loso.py", argv))
    text = "\n".join(report.header("Leave one set out", meta)) + block(results, meta) + "\n"
    report.write(args.out, args.name, meta, results, text)
    print(block(results, meta))
    return results


def block(results, meta):
    """The choices: the best variant, the best within the fit-time budget,
    and, where computed, the cheapest that loses nowhere."""
    text = (table(results["best"], meta) + "\n\n"
            + table(results["within_budget"], meta, meta["budget"]))
    if "cheapest_without_loss" in results:
        text += "\n\n" + table(results["cheapest_without_loss"], meta, cheapest=True)
    return text


if __name__ == "__main__":
    main()
