from sepcalc.cli import main

main()
