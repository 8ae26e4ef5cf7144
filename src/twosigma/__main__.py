from twosigma.cli import main

main()
