from trendbot.cli import main

main()
