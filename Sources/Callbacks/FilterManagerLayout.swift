// Where the filter manager's private structures (fltmgr.sys: _GLOBALS, _FLTP_FRAME, _FLT_FILTER,
// _FLT_INSTANCE, _CALLBACK_NODE) keep the members the minifilter family reads. ntoskrnl's PDB does
// not describe them: they come from fltmgr's own PDB when the symbol path has it, else from
// per-build facts published for these structures, each recorded with its source.

import Symbols
import WindowsKernel

/// Member offsets of the filter manager's structures, and where they came from.
public struct FilterManagerLayout: Sendable, Hashable {
  /// `pdb` (fltmgr's own symbol file) or `declared` (the published facts below).
  public var source: Provenance
  /// What lent the offsets: the PDB's identity, or the facts' sources and build range.
  public var basis: String

  /// _GLOBALS.FrameList (an _FLT_RESOURCE_LIST_HEAD).
  public var framesInGlobals: UInt64
  /// _FLT_RESOURCE_LIST_HEAD.rList: the LIST_ENTRY after the ERESOURCE.
  public var resourceList: UInt64
  /// _FLTP_FRAME.Links, FrameID and RegisteredFilters.
  public var frameLinks, frameID, frameFilters: UInt64
  /// _FLT_OBJECT.PrimaryLink (the first member of every filter and instance is its _FLT_OBJECT).
  public var primaryLink: UInt64
  /// _FLT_FILTER.Frame, Name, DefaultAltitude, DriverObject, InstanceList and Operations.
  public var filterFrame, filterName, filterAltitude, filterDriver, filterInstances, filterOperations: UInt64
  /// _FLT_FILTER's own routine members (FilterUnload, InstanceSetup …) by offset; those the source names.
  public var filterRoutines: [FilterRoutineMember]
  /// _FLT_INSTANCE.Volume, Filter, Altitude, Name, FilterLink and CallbackNodes.
  public var instanceVolume, instanceFilter, instanceAltitude, instanceName, instanceLink, instanceNodes: UInt64
  /// Elements of _FLT_INSTANCE.CallbackNodes: one per major function, from the first internal operation.
  public var nodeCount: Int
  /// _CALLBACK_NODE.CallbackLinks, Instance, PreOperation and PostOperation.
  public var nodeLinks, nodeInstance, nodePre, nodePost: UInt64

  /// One routine member of _FLT_FILTER.
  public struct FilterRoutineMember: Sendable, Hashable {
    public var name: String
    public var offset: UInt64
  }

  /// _FLT_FILTER members that hold routines of the filter (FLT_REGISTRATION's callbacks, copied in).
  static let filterRoutineNames = [
    "FilterUnload", "InstanceSetup", "InstanceQueryTeardown", "InstanceTeardownStart", "InstanceTeardownComplete",
    "PreVolumeMount", "PostVolumeMount", "GenerateFileName", "NormalizeNameComponent", "NormalizeNameComponentEx",
    "NormalizeContextCleanup", "KtmNotification", "SectionNotification",
  ]

  /// Negative major functions (fltKernel.h's FLT_INTERNAL_OPERATION_COUNT): CallbackNodes[i] serves
  /// major function i − 22.
  public static let internalOperations = 22

  /// The layout fltmgr's PDB gives; an error naming the first member it lacks.
  public init(pdb profile: any KernelProfile) throws(WindowsKernelError) {
    func at(_ s: String, _ f: String) throws(WindowsKernelError) -> UInt64 {
      guard let info = profile.field(s, f), info.offset >= 0 else { throw .missingField(structName: s, field: f) }
      return UInt64(info.offset)
    }
    source = .pdb
    basis = "\(profile.identity)"
    framesInGlobals = try at("_GLOBALS", "FrameList")
    resourceList = try at("_FLT_RESOURCE_LIST_HEAD", "rList")
    frameLinks = try at("_FLTP_FRAME", "Links")
    frameID = try at("_FLTP_FRAME", "FrameID")
    frameFilters = try at("_FLTP_FRAME", "RegisteredFilters")
    primaryLink = try at("_FLT_OBJECT", "PrimaryLink")
    filterFrame = try at("_FLT_FILTER", "Frame")
    filterName = try at("_FLT_FILTER", "Name")
    filterAltitude = try at("_FLT_FILTER", "DefaultAltitude")
    filterDriver = try at("_FLT_FILTER", "DriverObject")
    filterInstances = try at("_FLT_FILTER", "InstanceList")
    filterOperations = try at("_FLT_FILTER", "Operations")
    filterRoutines = Self.filterRoutineNames.compactMap { name in
      profile.field("_FLT_FILTER", name).map { FilterRoutineMember(name: name, offset: UInt64(max($0.offset, 0))) }
    }
    instanceVolume = try at("_FLT_INSTANCE", "Volume")
    instanceFilter = try at("_FLT_INSTANCE", "Filter")
    instanceAltitude = try at("_FLT_INSTANCE", "Altitude")
    instanceName = try at("_FLT_INSTANCE", "Name")
    instanceLink = try at("_FLT_INSTANCE", "FilterLink")
    instanceNodes = try at("_FLT_INSTANCE", "CallbackNodes")
    guard case .array(_, let count)? = profile.field("_FLT_INSTANCE", "CallbackNodes")?.type, count > 0, count <= 64
    else { throw .missingField(structName: "_FLT_INSTANCE", field: "CallbackNodes[] element count") }
    nodeCount = count
    nodeLinks = try at("_CALLBACK_NODE", "CallbackLinks")
    nodeInstance = try at("_CALLBACK_NODE", "Instance")
    nodePre = try at("_CALLBACK_NODE", "PreOperation")
    nodePost = try at("_CALLBACK_NODE", "PostOperation")
  }

  private init(declaredFor build: Int, instanceNodes: UInt64, basis: String) {
    source = .declared
    self.basis = basis
    framesInGlobals = 0x58
    resourceList = 0x68
    frameLinks = 0x08
    frameID = 0x18
    frameFilters = 0x48
    primaryLink = 0x10
    filterFrame = 0x30
    filterName = 0x38
    filterAltitude = 0x48
    filterDriver = 0x60
    filterInstances = 0x68
    filterOperations = 0x1A8
    filterRoutines = Self.filterRoutineNames.enumerated().map { i, name in
      // FilterUnload … InstanceTeardownComplete from 0x100; PreVolumeMount … SectionNotification
      // from 0x168, after SupportedContextsListHead and SupportedContexts[7].
      FilterRoutineMember(name: name, offset: i < 5 ? 0x100 + UInt64(i) * 8 : 0x168 + UInt64(i - 5) * 8)
    }
    instanceVolume = 0x38
    instanceFilter = 0x40
    instanceAltitude = 0x50
    instanceName = 0x60
    instanceLink = 0x70
    self.instanceNodes = instanceNodes
    nodeCount = 50
    nodeLinks = 0x00
    nodeInstance = 0x10
    nodePre = 0x18
    nodePost = 0x20
  }

  /// The published layout of x64 fltmgr on `build`, or nil where none is published (Windows 7 and
  /// 8.x, x86, builds after 22631): fltmgr's PDB is then the only source.
  ///
  /// Sources: the _GLOBALS, _FLTP_FRAME, _FLT_FILTER, _FLT_INSTANCE and _CALLBACK_NODE definitions of
  /// fltmgr.pdb 10.0.17763.379 (github.com/0x00ach/MS-public-PDB-structs), laid out with x64 sizes;
  /// and the per-build offsets EDRSandblast publishes (Offsets/FltmgrOffsets.csv: FrameList, rList,
  /// Links, RegisteredFilters, PrimaryLink, DriverObject, InstanceList, FilterLink, CallbackNodes),
  /// which agree with that layout from 10240 to 19041 and move only CallbackNodes, to 0xA8, from 21390.
  /// Members after InstanceList in _FLT_FILTER are not in that table: on Windows 11 they are the
  /// 17763 layout, checked in memory (an Operations array must end inside the filter's image).
  public static func declared(build: Int, pointerSize: Int) -> FilterManagerLayout? {
    guard pointerSize == 8 else { return nil }
    switch build {
    case 10240...19045:
      return FilterManagerLayout(
        declaredFor: build, instanceNodes: 0xA0,
        basis: "declared for fltmgr 10240–19045 (fltmgr.pdb 17763 types; EDRSandblast FltmgrOffsets.csv)")
    case 21390...22631:
      return FilterManagerLayout(
        declaredFor: build, instanceNodes: 0xA8,
        basis: "declared for fltmgr 21390–22631 (EDRSandblast FltmgrOffsets.csv; other members as fltmgr.pdb 17763)")
    default:
      return nil
    }
  }
}
