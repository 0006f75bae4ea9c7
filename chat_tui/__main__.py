from chat_tui.app import main

main()
