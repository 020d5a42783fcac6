"""``manage.py lessons``: validate, check and load the walkthrough lessons.

    python manage.py lessons validate [FILE ...]      # every lesson file, or the given ones
    python manage.py lessons check [SLUG ...] [--lang en|zh-Hans] [-v 2]   # -v 2: every action and check
    python manage.py lessons load [--strict]          # into the database (make run does this)

``validate`` reads the files and reports each problem as ``file:line:column: path: message``. ``check`` runs
each lesson headlessly on an in-memory cluster with its solutions (step by step: setup, solution, actions,
checks) and prints every step's result with the reason of each failed check. Both exit non-zero when anything
is wrong. ``load`` stores the valid lessons; problems are reported and, with ``--strict``, make it fail.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kubeviz.lessons.format import LANGUAGES, LessonError, LoadReport, load_lesson_file, load_lessons, lessons_dir


class Command(BaseCommand):
    help = "Validate, check (run headlessly with their solutions) and load the walkthrough lessons."
    # Lessons are files and an in-memory cluster: the project's system checks have no bearing on them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=("validate", "check", "load"),
                            help="validate the files, check (run) the lessons, or load them into the database")
        parser.add_argument("names", nargs="*", metavar="SLUG|FILE",
                            help="check: lesson slugs (default all); validate: lesson files (default all)")
        parser.add_argument("--dir", help="the lessons directory (default: lessons/ of the project)")
        parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language of titles and messages")
        parser.add_argument("--strict", action="store_true", help="load: fail when any lesson file has a problem")

    def handle(self, *args, **options):
        self.directory = Path(options["dir"]) if options.get("dir") else lessons_dir()
        if not self.directory.is_dir():
            raise CommandError(f"{self.directory}: no such lessons directory")
        if options["names"] and options["action"] == "load":
            raise CommandError("load takes no names: it loads every lesson of the directory")
        return getattr(self, "_" + options["action"])(options)

    def _report(self) -> LoadReport:
        return load_lessons(self.directory, base=settings.BASE_DIR)

    def _print_problems(self, report: LoadReport) -> None:
        for problem in report.problems:
            self.stderr.write(str(problem))

    def _validate(self, options):
        if options["names"]:
            report = LoadReport()
            for name in options["names"]:
                try:
                    report.lessons.append(load_lesson_file(Path(name), base=settings.BASE_DIR))
                except LessonError as error:
                    report.problems.extend(error.problems)
        else:
            report = self._report()
        for lesson in report.lessons:
            self.stdout.write(f"ok   {lesson.source} ({lesson.slug}, {len(lesson.steps)} steps)")
        self._print_problems(report)
        if report.problems:
            raise CommandError(f"{len(report.problems)} problem(s) in lesson files")

    def _check(self, options):
        from kubeviz.lessons.runner import run_lesson

        report = self._report()
        self._print_problems(report)
        lessons = report.lessons
        if options["names"]:
            known = {lesson.slug: lesson for lesson in lessons}
            missing = [slug for slug in options["names"] if slug not in known]
            if missing:
                raise CommandError(f"no lesson {', '.join(missing)} (known: {', '.join(known) or 'none'})")
            lessons = [known[slug] for slug in options["names"]]
        lang, verbose = options["lang"], options["verbosity"] >= 2
        failed_steps = 0
        for lesson in lessons:
            result = run_lesson(lesson)
            self.stdout.write(f"{lesson.slug}: {lesson.content['title'][lang]}")
            for step in result.steps:
                mark = "PASS" if step.passed else "FAIL"
                passed = sum(c.passed for c in step.checks)
                self.stdout.write(f"  {mark} step {step.index + 1} {step.id}: {passed}/{len(step.checks)} checks")
                if verbose:
                    for line in step.log:
                        self.stdout.write(f"       · {line}")
                for error in step.errors:
                    self.stdout.write(f"       ! {error}")
                for check in step.checks:
                    if verbose or not check.passed:
                        sign = "✓" if check.passed else "✗"
                        text = "" if check.passed else f" — {check.message.get(lang, '')}"
                        self.stdout.write(f"       {sign} {check.check['type']}: {check.detail}{text}")
                failed_steps += not step.passed
        if report.problems or failed_steps:
            raise CommandError(f"{failed_steps} step(s) failed, {len(report.problems)} problem(s) in lesson files")
        self.stdout.write(f"{len(lessons)} lesson(s) passed")

    def _load(self, options):
        from kubeviz.lessons.services import lessons_sync

        report = self._report()
        self._print_problems(report)
        result = lessons_sync(report=report)
        self.stdout.write(
            f"lessons: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.removed)} removed"
            + (f", {len(report.problems)} problem(s) (see above)" if report.problems else "")
        )
        if report.problems and options["strict"]:
            raise CommandError(f"{len(report.problems)} problem(s) in lesson files")
