// Address arithmetic the config needs: the subnet an address with its prefix lies in.

export function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** "192.0.2.10", 24 -> "192.0.2.0/24" */
export function ipv4Subnet(addr: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  return `${intToIpv4(Math.floor(ipv4ToInt(addr) / size) * size)}/${prefix}`;
}

export function sameIpv4Subnet(a: string, b: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4ToInt(a) / size) === Math.floor(ipv4ToInt(b) / size);
}

/** Expands "2001:db8::1" to its eight 16-bit groups. */
function ipv6Groups(addr: string): number[] {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = part(head);
  const t = part(tail);
  return tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

/** "2001:db8::10/64" -> "2001:db8::/64", in the kernel's compressed form. */
export function ipv6Subnet(cidr: string): string {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  const groups = ipv6Groups(addr).map((g, i) => {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    return keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${compressIpv6(groups)}/${prefix}`;
}

function compressIpv6(groups: number[]): string {
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function netmaskToPrefix(mask: string): number | undefined {
  const bits = mask.split('.').map((o) => Number(o).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

export function prefixToNetmask(prefix: number): string {
  const n = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** Whether ADDR (IPv4 or IPv6, no prefix) lies in the subnet of CIDR ("192.0.2.10/24"). */
export function inSubnet(addr: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  if (addr.includes(':') !== net.includes(':')) return false;
  if (!addr.includes(':')) return sameIpv4Subnet(addr, net, Number(len));
  return ipv6Subnet(`${addr}/${len}`) === ipv6Subnet(cidr);
}
