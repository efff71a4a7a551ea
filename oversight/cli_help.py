"""Help text shared by the CLI's subcommands."""

CONFIG_EPILOG = ("Config keys and their meaning: the dataclasses in oversight/config.py and the components "
                 "they compose (README: Configuration reference). `oversight run --print-config` shows every key.")
