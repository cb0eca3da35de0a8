import ThresherCLI

Thresher.main()
