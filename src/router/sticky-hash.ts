/** FNV-1a over the UTF-16 code units of `text`: a cheap, stable hash to pin a client address to a replica. */
export function stickyHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
