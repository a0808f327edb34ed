"""``python -m bench``: run every benchmark, print the table, write bench/results.json."""
from bench import config_engine, groups, pages
from bench.harness import Report


def main() -> None:
    report = Report()
    config_engine.run(report)
    pages.run(report)
    groups.run(report)
    report.print_and_save()


if __name__ == "__main__":
    main()
