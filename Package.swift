// swift-tools-version: 6.1
// CallScope: lists every callback a Windows kernel will call, from a memory image.
// Layers (each imports only those before it), see ../shared/DESIGN.md:
//   BinaryReading ─▶ MemoryImage ─▶ AddressSpace ─▶ WindowsKernel ─▶ Reports ─▶ callscope
//   BinaryReading ─▶ PortableExecutable, Symbols; CCapstone ─▶ Disassembly (leaves, joined in WindowsKernel)
//   MemoryImage ─▶ Live (guest RAM of a running VM, QMP) ─▶ callscope
//   GDBRemote (leaf: GDB remote serial protocol client) ─▶ callscope (`trace`)
//   WindowsKernel ─▶ Callbacks ─▶ Analysis ─▶ Reports; ImageBuilder (test support) only in tests, the
//   benchmarks and callscope-demo-image, never in callscope
import PackageDescription

let package = Package(
  name: "CallScope",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "callscope", targets: ["callscope"]),
    .executable(name: "callscope-demo-image", targets: ["callscope-demo-image"]),
    .library(
      name: "CallScopeKit",
      targets: [
        "BinaryReading", "MemoryImage", "AddressSpace", "PortableExecutable", "Symbols", "Disassembly",
        "WindowsKernel", "Callbacks", "Analysis", "Reports", "Live",
      ]),
    .library(name: "ImageBuilder", targets: ["ImageBuilder"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    .systemLibrary(
      name: "CLZMA", path: "Sources/CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CCapstone", path: "Sources/CCapstone", pkgConfig: "capstone", providers: [.apt(["libcapstone-dev"])]),
    .target(name: "Disassembly", dependencies: ["CCapstone"]),
    .target(name: "BinaryReading"),
    // GDB remote serial protocol client (QEMU's gdbstub) for `trace`.
    .target(name: "GDBRemote"),
    .target(name: "MemoryImage", dependencies: ["BinaryReading", "CLZMA", "CZlib"]),
    .target(name: "AddressSpace", dependencies: ["BinaryReading", "MemoryImage"]),
    .target(name: "PortableExecutable", dependencies: ["BinaryReading"]),
    .target(name: "Symbols", dependencies: ["BinaryReading", "CLZMA", "CZlib"], resources: [.copy("Resources")]),
    .target(
      name: "WindowsKernel",
      dependencies: ["BinaryReading", "MemoryImage", "AddressSpace", "PortableExecutable", "Symbols", "Disassembly"]),
    .target(
      name: "Callbacks",
      dependencies: [
        "BinaryReading", "MemoryImage", "AddressSpace", "Symbols", "WindowsKernel", "Disassembly", "PortableExecutable",
      ]),
    .target(
      name: "Analysis",
      dependencies: ["BinaryReading", "MemoryImage", "AddressSpace", "Symbols", "WindowsKernel", "Callbacks"]),
    .target(
      name: "Reports",
      dependencies: [
        "BinaryReading", "MemoryImage", "AddressSpace", "Symbols", "WindowsKernel", "Callbacks", "Analysis",
      ]),
    // A running QEMU/KVM guest: its RAM file as physical memory (layout from QMP), QMP control.
    .target(name: "Live", dependencies: ["BinaryReading", "MemoryImage"]),
    // Test support: synthesises minimal Windows memory images, PE files and dumps (also the bundled demo).
    .target(name: "ImageBuilder", dependencies: ["BinaryReading"]),
    .executableTarget(
      name: "callscope",
      dependencies: [
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        "BinaryReading", "MemoryImage", "AddressSpace", "PortableExecutable", "Symbols", "WindowsKernel", "Callbacks",
        "Analysis", "Reports", "Live", "GDBRemote",
      ]),
    // Writes the synthetic demo image (scripts/demo); kept apart so `callscope` does not contain the builder.
    .executableTarget(
      name: "callscope-demo-image",
      dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser"), "ImageBuilder", "Symbols"]),
    .target(name: "TestData", path: "Tests/TestData"),
    .testTarget(name: "BinaryReadingTests", dependencies: ["BinaryReading", "TestData"]),
    .testTarget(name: "DisassemblyTests", dependencies: ["Disassembly", "TestData"]),
    .testTarget(name: "MemoryImageTests", dependencies: ["MemoryImage", "BinaryReading", "ImageBuilder", "TestData"]),
    .testTarget(
      name: "AddressSpaceTests",
      dependencies: ["AddressSpace", "BinaryReading", "MemoryImage", "ImageBuilder", "TestData"]),
    .testTarget(
      name: "PortableExecutableTests",
      dependencies: ["PortableExecutable", "BinaryReading", "ImageBuilder", "TestData"]),
    .testTarget(
      name: "SymbolsTests", dependencies: ["Symbols", "BinaryReading", "ImageBuilder", "TestData", "Callbacks"]),
    .testTarget(
      name: "WindowsKernelTests",
      dependencies: [
        "WindowsKernel", "BinaryReading", "Callbacks", "Analysis", "AddressSpace", "MemoryImage", "PortableExecutable",
        "Symbols", "ImageBuilder",
        "TestData",
      ]),
    .testTarget(
      name: "CallbacksTests",
      dependencies: [
        "Callbacks", "WindowsKernel", "AddressSpace", "MemoryImage", "Symbols", "ImageBuilder", "TestData", "Analysis",
      ]),
    .testTarget(
      name: "AnalysisTests",
      dependencies: ["Analysis", "Callbacks", "WindowsKernel", "MemoryImage", "Symbols", "TestData"]),
    .testTarget(name: "ReportsTests", dependencies: ["Reports", "Analysis", "TestData"]),
    .testTarget(
      name: "ImageBuilderTests",
      dependencies: [
        "ImageBuilder", "MemoryImage", "TestData", "AddressSpace", "Symbols", "WindowsKernel", "Callbacks", "Analysis",
        "Reports",
      ]),
    .testTarget(name: "CallScopeCLITests", dependencies: ["TestData", "ImageBuilder", "GDBRemote"]),
    .testTarget(name: "PackageLayoutTests", dependencies: ["TestData"]),
    .testTarget(name: "LiveTests", dependencies: ["Live", "GDBRemote", "TestData"]),
    .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote", "TestData"]),
  ]
)
