// AddressSpace target.
