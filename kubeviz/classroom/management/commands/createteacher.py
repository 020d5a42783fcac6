"""``manage.py createteacher NAME``: a teacher's account (a Django user; every user is a teacher).

The password is asked for twice on a terminal, or read from ``--password-stdin`` (one line, for scripts); it must
pass Django's password validators. Run again for an existing name, it sets a new password.
"""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a teacher who can log in, create classes and see their learners' sandboxes (or set a password)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")

    def handle(self, *args, username, password_stdin, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            if not sys.stdin.isatty():
                raise CommandError("no terminal to ask for the password on: use --password-stdin")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        User = get_user_model()
        user = User.objects.filter(username=username).first() or User(username=username)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        created = user.pk is None
        user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"teacher {username!r} {'created' if created else 'updated'}; log in at /accounts/login/")
