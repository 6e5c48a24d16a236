/** Saves an API response as a file in the browser's downloads, named as MLog's Content-Disposition says (else `fallback`). */
export async function saveResponse(response: Response, fallback: string): Promise<string> {
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const named = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  const name = named ?? fallback;
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  return name;
}
