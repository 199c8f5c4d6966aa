"""What the integrations commands share on the command line."""

from django.core.management.base import CommandError


class OneLineErrors:
    """A mistyped option gets one line and where to look, not argparse's whole usage block:
    `integrations_sync: the following arguments are required: --provider (see --help)`."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message):
            if parser.called_from_command_line:
                parser.exit(2, f"{subcommand}: {message} (see {subcommand} --help)\n")
            raise CommandError(f"Error: {message}", returncode=2)

        parser.error = error
        return parser
