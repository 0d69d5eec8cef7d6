// A family whose routines belong in known images by design (win32k's callout dispatch, ETW's ALPC
// logger): the inner reader's entries get those images as expected owners, so one anywhere else
// is flagged outside-expected-module.

/// Runs `inner` and gives every entry `owners` (lowercase image names) as its expected owners.
struct ExpectedOwnersFamily: CallbackFamily {
  let inner: any CallbackFamily
  let owners: [String]
  var ids: [String] { inner.ids }

  func collect(_ c: CallbackContext) -> [FamilyResult] {
    inner.collect(c).map { result in
      var result = result
      for i in result.entries.indices { result.entries[i].expectedOwners = owners }
      return result
    }
  }
}
