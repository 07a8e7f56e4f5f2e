// Parley's service worker: shows a Web Push notification and focuses (or opens) the app on a click.
// The payload is the server's JSON ({title, body, conv, …}); shown as plain text by the browser.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const title = typeof data.title === 'string' && data.title ? data.title : 'Parley';
  const body = typeof data.body === 'string' ? data.body : 'New message';
  event.waitUntil(self.registration.showNotification(title, { body, tag: data.conv ? String(data.conv) : undefined }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
    if (open) return open.focus();
    return self.clients.openWindow('/');
  })());
});
