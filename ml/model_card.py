"""The model card written with every evaluation report (model_card.md, and a section of report.html).

It states what the model is for (research on dataset bias, never judging a person), where its
data came from (departments, crawl dates, counts), how people can have their photos removed,
what it scored with intervals, the face-or-website verdict with its controls, and the known
limitations of the design. Pure functions of evaluate's metrics.
"""
from __future__ import annotations

import pandas as pd

INTENDED_USE = ("Research on dataset bias: measuring whether a classifier of an academic's field from a staff "
                "photo learns anything from the face, or only from the website the photo came from.")
OUT_OF_SCOPE = (
    "Judging, screening, ranking or profiling any individual (hiring, admission, review, security).",
    "Inferring a person's field, ability, personality or any protected attribute from their face.",
    "Any use on photos of people who did not publish them as staff photos, or after they asked for removal.",
)
DEMOGRAPHIC_BASELINE = (
    "The demographic baseline is for bias analysis of the data set: it measures how much of a field signal "
    "the categories' different shares of women and men alone explain, by a classifier that sees nothing but "
    "perceived gender. Gender here is perceived, binary and error-prone: a model trained on LFW photos whose "
    "labels annotators gave from appearance. It is never a fact about a person, and no result of it is about "
    "any individual.")
RIGHTS = ("Every person can have their photos removed: `academic-faces forget` deletes the photos, crops, "
          "embeddings and control copies everywhere in the object store, lists the runs trained on them, and "
          "the crawler keeps honouring the removal on later crawls (README, \"Privacy and removal requests\"). "
          "Crawls obey robots.txt and `noai`/`noimageai` opt-outs.")
LIMITATIONS = (
    "In the study's design every category comes from one department's website, so category and website are "
    "fully confounded; only the context controls (face_only, context_only, photo_style) can separate them, and "
    "a face signal can still be a trait such as sex or age whose mix differs between fields.",
    "A result not distinguishable from chance is limited by the number of people in the test split (see the "
    "detectable accuracy); it is not evidence that no signal exists.",
    "Intervals and p-values treat people, not photos, as the independent units; a handful of people per "
    "category gives wide intervals.",
    "Photos are whatever the departments published: one pose, one moment, self-selected; the model learns "
    "nothing about people who publish no photo.",
)


def provenance(splits: pd.DataFrame, index: pd.DataFrame, roles: list[str] | None = None) -> dict:
    """Departments, counts, roles and crawl dates of the photos behind an evaluation.
    `roles`: the role classes the split kept (None or empty: everyone)."""
    cols = ["id", "slug", "university", "department", "first_seen", "last_seen", "role_class"]
    rows = splits[["id", "group", "category", "split"]].merge(
        index[[c for c in cols if c in index.columns]].drop_duplicates("id"), on="id", how="left")
    departments = []
    for slug, part in rows.groupby(rows["slug"].fillna("(not in the index)"), sort=True):
        departments.append({"slug": str(slug), "university": _first(part, "university"),
                            "department": _first(part, "department"),
                            "categories": sorted(part["category"].astype(str).unique()),
                            "photos": int(len(part)), "people": int(part["group"].nunique())})
    seen = pd.concat([rows.get("first_seen", pd.Series(dtype=str)), rows.get("last_seen", pd.Series(dtype=str))])
    seen = seen.dropna().astype(str)
    role = rows["role_class"].astype("string").fillna("unknown") if "role_class" in rows else \
        pd.Series("unknown", index=rows.index)
    per_category = {str(c): {str(r): int(n) for r, n in part.value_counts().sort_index().items()}
                    for c, part in role.groupby(rows["category"].astype(str), sort=True)}
    return {"photos": int(len(rows)), "people": int(rows["group"].nunique()), "departments": departments,
            "crawled_from": min(seen) if len(seen) else None, "crawled_to": max(seen) if len(seen) else None,
            "roles": {"included": sorted(roles) if roles else "all", "photos_per_category": per_category}}


def roles_sentence(prov: dict) -> str:
    """Which roles the data holds: 'Roles included: all. cs: professor 3, doctoral 5; ...'."""
    roles = prov.get("roles") or {}
    included = roles.get("included", "all")
    head = "Roles included: " + ("all (no role filter)" if included == "all" else ", ".join(included)) + "."
    counts = "; ".join(f"{category}: " + ", ".join(f"{r} {n}" for r, n in per.items())
                       for category, per in (roles.get("photos_per_category") or {}).items())
    return head + (f" Photos per category and role: {counts}." if counts else "")


def _first(part: pd.DataFrame, column: str) -> str:
    values = part[column].dropna().astype(str) if column in part else pd.Series(dtype=str)
    return values.iloc[0] if len(values) else ""


def _interval(r: dict) -> str:
    if any(not isinstance(r.get(k), (int, float)) for k in ("accuracy", "ci_low", "ci_high", "p_value")):
        return "not in these metrics"
    return f"{r['accuracy']:.3f} (95 % CI {r['ci_low']:.3f}-{r['ci_high']:.3f}, p = {r['p_value']:.3g})"


def model_card(metrics: dict) -> str:
    """Markdown model card of an evaluation."""
    prov = metrics.get("provenance") or {}
    lines = [f"# Model card: run {metrics.get('run')} ({metrics.get('kind')})", "",
             "## Intended use", "", INTENDED_USE, "", "## Out of scope", ""]
    lines += [f"- {item}" for item in OUT_OF_SCOPE]
    lines += ["", "## Data", ""]
    if prov:
        lines.append(f"{prov['photos']} photos of {prov['people']} people from {len(prov['departments'])} "
                     f"department(s), crawled between {prov.get('crawled_from') or 'unknown'} and "
                     f"{prov.get('crawled_to') or 'unknown'}.")
        lines += ["", "| department | slug | categories | people | photos |", "|---|---|---|---|---|"]
        lines += [f"| {' / '.join(v for v in (d['university'], d['department']) if v) or '-'} | {d['slug']} | "
                  f"{', '.join(d['categories'])} | {d['people']} | {d['photos']} |" for d in prov["departments"]]
        lines += ["", roles_sentence(prov)]
    else:
        lines.append("No provenance in these metrics.")
    lines += ["", "## People's rights", "", RIGHTS, "", "## Metrics", ""]
    lines.append(f"- accuracy on {metrics.get('n_test')} test photos of {metrics.get('n_groups')} people: "
                 f"{_interval(metrics)}; chance {metrics.get('chance') or 0:.3f}; interval: {metrics.get('ci_method')}")
    if metrics.get("detectable_accuracy") is not None:
        lines.append(f"- smallest accuracy this test split detects with 80 % power: "
                     f"{metrics['detectable_accuracy']:.3f}")
    lines += ["", "## Face or website?", "",
              f"Verdict: **{metrics.get('verdict', 'not assessed')}**. {metrics.get('verdict_reason', '')}", ""]
    for name, control in (metrics.get("controls") or {}).items():
        if control.get("status") == "done":
            lines.append(f"- {name}: {_interval(control)}")
        else:
            lines.append(f"- {name}: {control.get('status', 'not run').replace('_', ' ')}")
    lines += ["", "## Demographic baseline", "", DEMOGRAPHIC_BASELINE]
    excess = metrics.get("excess_over_demographic")
    if excess:
        lines += ["", f"Main model minus demographic baseline (same test photos, paired by person): "
                      f"{excess['estimate']:+.3f} (95 % CI {excess['ci_low']:+.3f} to {excess['ci_high']:+.3f})."]
    lines += ["", "## Known limitations", ""]
    lines += [f"- {item}" for item in LIMITATIONS]
    return "\n".join(lines) + "\n"
