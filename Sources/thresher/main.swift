import ThresherCLI

ensureSingleThreadedBLASEnvironment()
Thresher.main()
