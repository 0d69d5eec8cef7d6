// The profile of a kernel without a matching symbol file: layouts lent by the bundled build of the
// same release (else the nearest older one, used only when it fits the data, or once the process
// fields derived from the data are laid over it and it then fits), addresses from the export table
// and the locators of the kernel model and of every callback family.

import AddressSpace
import BinaryReading
import Symbols
import WindowsKernel

/// Builds a LocatedProfile for a kernel image.
public enum SymbolLessProfile {
  /// Why no profile could be built.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// Locates the kernel's variables; `version` is its `major.minor.build[.revision]`.
  public static func make(
    space: VirtualAddressSpace, image: KernelImage, version: String?, bundle: BundledProfiles
  ) throws(Failure) -> LocatedProfile {
    let fetch =
      "supply the kernel's PDB \(image.pdb.name) (GUID \(image.pdb.guid), age \(image.pdb.age); symbol-server path "
      + "\(image.pdb.name)/\(image.pdb.symstoreKey)/\(image.pdb.name)) with --symbols"
    guard let version, let parsed = KernelVersion(version) else {
      throw Failure(description: "the kernel's version is unknown, so no bundled layouts can be lent; \(fetch)")
    }
    guard let lender = bundle.lender(for: parsed, pdbName: image.pdb.name, machine: UInt32(image.machine)) else {
      throw Failure(
        description:
          "no bundled build of release \(parsed.release.map(String.init).joined(separator: ".")) or older lends layouts; \(fetch)"
      )
    }
    let layouts: BundledProfile
    do {
      guard let p = try bundle.profile(for: lender.build.identity) else {
        throw Failure(description: "bundled build \(lender.build.identity) unreadable")
      }
      layouts = p
    } catch let f as Failure {
      throw f
    } catch {
      throw Failure(description: "bundled build \(lender.build.identity): \(error)")
    }
    let lenderVersion = lender.build.version ?? lender.build.identity.isfKey
    let source = "bundled \(lenderVersion) (\(lender.build.identity.isfKey), \(lender.lending.rawValue))"
    let build = parsed.build
    let recipes = KernelModelRecipes.recipes(build: build) + FamilyHeadLocators.recipes(build: build)
    let located = SymbolLocator.locate(
      space: space, image: image, layouts: layouts, layoutSource: source, build: build, recipes: recipes)
    guard lender.lending == .olderRelease else { return located }
    let problems = LayoutValidation.problems(kernel: Kernel(space: space, image: image, profile: located))
    guard !problems.isEmpty else { return located }
    let misfit =
      "the layouts of the nearest older bundled release (\(lenderVersion)) do not fit this kernel "
      + "(\(problems.joined(separator: "; ")))"
    return try derived(
      space: space, image: image, lent: layouts, first: located, build: build, recipes: recipes, misfit: misfit,
      fetch: fetch)
  }

  /// The lent layouts with the process fields derived from the data laid over them, the symbols
  /// located again with them (PsActiveProcessHead follows ActiveProcessLinks), accepted only if
  /// the validation then passes. `first` is the profile located with the lent layouts alone.
  static func derived(
    space: VirtualAddressSpace, image: KernelImage, lent: BundledProfile, first: LocatedProfile, build: Int,
    recipes: [HeadRecipe], misfit: String, fetch: String
  ) throws(Failure) -> LocatedProfile {
    let fields: [DerivedField]
    do {
      fields = try LayoutDerivation.derive(kernel: Kernel(space: space, image: image, profile: first))
    } catch {
      throw Failure(description: "\(misfit); \(error); \(fetch)")
    }
    let layered = DerivedLayoutProfile(base: lent, derived: fields)
    let layoutSource =
      first.layoutSource + "; derived from the data: " + fields.map(\.description).joined(separator: "; ")
    let located = SymbolLocator.locate(
      space: space, image: image, layouts: layered, layoutSource: layoutSource, build: build, recipes: recipes)
    let problems = LayoutValidation.problems(kernel: Kernel(space: space, image: image, profile: located))
    guard problems.isEmpty else {
      throw Failure(
        description: "\(misfit); with the offsets derived from the data still \(problems.joined(separator: "; ")); "
          + fetch)
    }
    return located
  }
}
