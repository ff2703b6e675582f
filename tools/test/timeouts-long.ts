// For suites that drive a Kubernetes control plane or the whole platform (see timeouts.ts for why).
jest.setTimeout(600_000);
