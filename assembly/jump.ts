// Jump consistent hash (Lamping and Veach, 2014): maps a 64-bit key to one of
// `buckets` buckets so that growing from n to n+1 buckets moves only 1/(n+1) of keys.
export function jumpHash(key: u64, buckets: i32): i32 {
  let b: i64 = -1;
  let j: i64 = 0;
  while (j < <i64>buckets) {
    b = j;
    key = key * 2862933555777941757 + 1;
    j = <i64>(<f64>(b + 1) * (<f64>(<i64>1 << 31) / <f64>((key >> 33) + 1)));
  }
  return <i32>b;
}
