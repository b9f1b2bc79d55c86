using System.Runtime.InteropServices;

namespace DiffusionLab.Runtime;

/// <summary>
/// The processes that train one model together, one per rank: data-parallel training sums their gradients
/// (<see cref="AllReduceSum"/>) and starts them from rank 0's weights (<see cref="Broadcast"/>).
/// </summary>
public interface ICommunicator
{
    int Rank { get; }
    int Size { get; }

    /// <summary>Replaces <paramref name="buffer"/> on every rank with the element-wise sum of all ranks' buffers.</summary>
    void AllReduceSum(float[] buffer);

    /// <summary>Replaces <paramref name="buffer"/> on every rank with rank <paramref name="root"/>'s.</summary>
    void Broadcast(float[] buffer, int root);

    void Barrier();
}

/// <summary>
/// MPI_COMM_WORLD of Open MPI (Debian's openmpi-bin 4.1, libmpi.so.40), bound through P/Invoke: what Horovod and most
/// HPC training run on, and what .NET can call where TorchSharp 0.107 has no torch.distributed. The library is opened
/// with RTLD_GLOBAL, as mpi4py does, because Open MPI's plugins resolve their symbols against it. Open MPI's handles
/// (the communicator, the datatypes, the operation) are addresses of exported objects (ompi_mpi_comm_world, …), not
/// integers as in MPICH, which is why this class is Open MPI's. <see cref="World"/> initialises MPI once per process and
/// finalises it at exit.
/// </summary>
public sealed class MpiCommunicator : ICommunicator
{
    private const string LibraryName = "libmpi.so.40";
    private const int RtldNow = 2, RtldGlobal = 0x100;
    private static readonly IntPtr InPlace = 1; // Open MPI's MPI_IN_PLACE

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int InitFn(IntPtr argc, IntPtr argv);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int NoArgFn();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int FlagFn(out int flag);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int CommIntFn(IntPtr comm, out int value);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int AllreduceFn(IntPtr send, IntPtr recv, int count, IntPtr type, IntPtr op, IntPtr comm);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int BcastFn(IntPtr buffer, int count, IntPtr type, int root, IntPtr comm);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int BarrierFn(IntPtr comm);

    [DllImport("libc", EntryPoint = "dlopen")] private static extern IntPtr DlOpen(string file, int mode);

    private static MpiCommunicator? _world;
    private static readonly object Gate = new();

    private readonly AllreduceFn _allreduce;
    private readonly BcastFn _bcast;
    private readonly BarrierFn _barrier;
    private readonly NoArgFn _finalize;
    private readonly IntPtr _comm, _float, _sum;

    public int Rank { get; }
    public int Size { get; }

    /// <summary>Whether this process was started by an MPI launcher (mpirun, srun with PMIx) as one of several ranks.</summary>
    public static bool LaunchedAsSeveralRanks =>
        new[] { "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE" }.Any(v => int.TryParse(Environment.GetEnvironmentVariable(v), out int n) && n > 1);

    /// <summary>MPI_COMM_WORLD, initialised on first use; a one-line error where Open MPI is not installed.</summary>
    public static MpiCommunicator World()
    {
        lock (Gate) return _world ??= new MpiCommunicator();
    }

    private MpiCommunicator()
    {
        IntPtr lib = DlOpen(LibraryName, RtldNow | RtldGlobal);
        if (lib == IntPtr.Zero)
            throw new DiffusionLabException($"MPI was asked for, but Open MPI's {LibraryName} was not found: install it (apt-get install openmpi-bin libopenmpi-dev) and start the ranks with mpirun");
        T Fn<T>(string name) where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(lib, name));
        _comm = NativeLibrary.GetExport(lib, "ompi_mpi_comm_world");
        _float = NativeLibrary.GetExport(lib, "ompi_mpi_float");
        _sum = NativeLibrary.GetExport(lib, "ompi_mpi_op_sum");
        _allreduce = Fn<AllreduceFn>("MPI_Allreduce");
        _bcast = Fn<BcastFn>("MPI_Bcast");
        _barrier = Fn<BarrierFn>("MPI_Barrier");
        _finalize = Fn<NoArgFn>("MPI_Finalize");
        Check(Fn<FlagFn>("MPI_Initialized")(out int initialised), "MPI_Initialized");
        if (initialised == 0) Check(Fn<InitFn>("MPI_Init")(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        Check(Fn<CommIntFn>("MPI_Comm_rank")(_comm, out int rank), "MPI_Comm_rank");
        Check(Fn<CommIntFn>("MPI_Comm_size")(_comm, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _finalize(); // mpirun reports ranks that exit without MPI_Finalize
    }

    private static void Check(int code, string call)
    {
        if (code != 0) throw new DiffusionLabException($"{call} failed with MPI error {code}");
    }

    public void AllReduceSum(float[] buffer)
    {
        var pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try { Check(_allreduce(InPlace, pin.AddrOfPinnedObject(), buffer.Length, _float, _sum, _comm), "MPI_Allreduce"); }
        finally { pin.Free(); }
    }

    public void Broadcast(float[] buffer, int root)
    {
        var pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try { Check(_bcast(pin.AddrOfPinnedObject(), buffer.Length, _float, root, _comm), "MPI_Bcast"); }
        finally { pin.Free(); }
    }

    public void Barrier() => Check(_barrier(_comm), "MPI_Barrier");
}
