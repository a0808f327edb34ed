"""``python -m bench [name …]``: run the benchmarks (all by default), print the table and
write bench/results.json. Names: config, pages, groups, catalog, csv, participants, races,
fullstack, delivery-import, attendance, progress, reports (which reuses progress's database), api,
webhooks."""
import importlib
import sys

from bench.harness import Report

BENCHES = {
    "config": "bench.config_engine",
    "pages": "bench.pages",
    "groups": "bench.groups",
    "catalog": "bench.catalog",
    "csv": "bench.csv_import",
    "participants": "bench.participants",
    "races": "bench.races",
    "fullstack": "bench.fullstack",
    "delivery-import": "bench.delivery_import",
    "attendance": "bench.attendance",
    "progress": "bench.progress",
    "reports": "bench.reports",
    "api": "bench.api",
    "webhooks": "bench.webhooks",
}


def main(names: list[str]) -> None:
    report = Report()
    for name in names or list(BENCHES):
        try:
            module = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError as exc:  # a benchmark not written yet
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        module.run(report)
    report.print_and_save()


if __name__ == "__main__":
    main(sys.argv[1:])
