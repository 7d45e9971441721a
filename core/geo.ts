/**
 * Locations and geo-search as Instagram's v1 API had them (GET /media/search: lat, lng, distance in metres,
 * min_timestamp, max_timestamp, count): the bounds, and the checks the upload and the search share. Pure.
 */

export interface LatLng {
    readonly latitude: number;
    readonly longitude: number;
}

/** GET /api/v1/media/search's distance: metres, default and largest (Instagram's v1 limits). */
export const SEARCH_DISTANCE_M = { default: 1000, max: 5000 } as const;
/** Results per search: default and largest. */
export const SEARCH_COUNT = { default: 20, max: 100 } as const;
/** A search query's limit on the search tier (statement_timeout): a slow one answers 503, never hangs a worker. */
export const SEARCH_QUERY_TIMEOUT_MS = 1000;

/** The problem with a latitude/longitude pair (as text from a query string), or the pair. */
export function parseLatLng(lat: string | null, lng: string | null): LatLng | string | undefined {
    if (lat === null && lng === null) return undefined;
    if (lat === null || lng === null) return "lat and lng go together: give both or neither";
    const number = /^-?\d{1,3}(\.\d{1,12})?$/;
    if (!number.test(lat)) return "lat must be a number of degrees from -90 to 90, such as 40.7484";
    if (!number.test(lng)) return "lng must be a number of degrees from -180 to 180, such as -73.9857";
    const latitude = Number(lat);
    const longitude = Number(lng);
    if (latitude < -90 || latitude > 90) return `lat ${lat}: must be from -90 to 90`;
    if (longitude < -180 || longitude > 180) return `lng ${lng}: must be from -180 to 180`;
    return { latitude, longitude };
}

/** Great-circle distance in metres on a sphere of the WGS 84 mean radius (the tests' brute-force check). */
export function haversineMetres(a: LatLng, b: LatLng): number {
    const R = 6_371_008.8;
    const rad = (d: number) => (d * Math.PI) / 180;
    const dLat = rad(b.latitude - a.latitude);
    const dLng = rad(b.longitude - a.longitude);
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLng / 2) ** 2;
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}
