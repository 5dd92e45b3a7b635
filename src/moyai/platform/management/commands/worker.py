"""``moyai worker``: run background tasks from the database queue."""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


class Command(DbWorkerCommand):
    help = "Run moyai's background tasks (django.tasks database backend). Stop with Ctrl-C."
