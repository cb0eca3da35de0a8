import LinearAlgebra
import ThresherCLI
#if MPI
import MPICoordination
#endif

ensureSingleThreadedBLASEnvironment()
#if MPI
if let session = MPISession.start() {
    Thresher.main(collective: session.coordinator, abort: session.abort)
}
#endif
Thresher.main()
