import CKernels
import LinearAlgebra
import ThresherCLI
#if MPI
import MPICoordination
#endif

ensureSingleThreadedBLASEnvironment()
thresher_return_large_blocks_to_system()
#if MPI
if let session = MPISession.start() {
    Thresher.main(collective: session.coordinator, abort: session.abort)
}
#endif
Thresher.main()
