// Service worker: caches the built app (listed in precache.json, written at build time) so that the
// page works offline once it has been loaded; everything else same-origin is cached on first use.
// Cached responses keep the server's COOP/COEP headers, so the page stays cross-origin isolated.
const scope = self;

async function precache() {
  const manifest = await (await fetch('precache.json', { cache: 'no-store' })).json();
  const cache = await caches.open(`xlens-${manifest.version}`);
  await cache.addAll(manifest.files);
  return manifest.version;
}

scope.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => scope.skipWaiting()));
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const manifest = await (await fetch('precache.json', { cache: 'no-store' }))
        .json()
        .catch(() => undefined);
      if (manifest)
        for (const key of await caches.keys())
          if (key.startsWith('xlens-') && key !== `xlens-${manifest.version}`) await caches.delete(key);
      await scope.clients.claim();
    })(),
  );
});

scope.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== scope.location.origin) return;
  event.respondWith(
    (async () => {
      const cached = await caches.match(request, { ignoreSearch: true });
      if (cached) return cached;
      const response = await fetch(request);
      if (response.ok && !request.url.endsWith('precache.json')) {
        const keys = await caches.keys();
        const current = keys.find((k) => k.startsWith('xlens-'));
        if (current) await (await caches.open(current)).put(request, response.clone());
      }
      return response;
    })(),
  );
});
