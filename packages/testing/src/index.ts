export { type RunError, repoRoot, run } from './exec.js';
export { ensureLibvirtd, systemUri } from './libvirtd.js';
export { opensshArgs, opensshExec, presentedHostKey, writeKnownHosts } from './openssh.js';
export { passtPidsOf, removeFleetFirewall, stopPassts } from './passt.js';
export { freePort, portBlock, testPort, waitForListen } from './ports.js';
export { type SpiceHandshake, spiceHandshake, spiceHandshakeUnix } from './spice.js';
export { type Sshd, startSshd } from './sshd.js';
export { ensureTestImage, type TestImage } from './test-image.js';
export { bootTestVm, type TestVm, type TestVmOptions } from './test-vm.js';
