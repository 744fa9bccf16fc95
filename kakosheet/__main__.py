from kakosheet.cli import main

main()
