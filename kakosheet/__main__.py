from kakosheet.cli import run

run()
