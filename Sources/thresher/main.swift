import LinearAlgebra
import ThresherCLI

ensureSingleThreadedBLASEnvironment()
Thresher.main()
