/**
 * Push devices of the session's user: POST registers {platform, token} (the app sends it after iOS or Android
 * hands it one), DELETE forgets a token (logout), GET lists them. Tokens are checked against their platform's
 * form before anything is stored.
 */
import { HttpError, readJsonObject, sendJson } from "../http";
import { need, RouteTable } from "../services";
import { requireViewer } from "../auth";
import { deviceTokenProblem, PUSH_PLATFORMS, PushPlatform } from "../../../core/push";

export const DEVICE_ROUTES: RouteTable = [
    ["POST", /^\/api\/v1\/devices$/, async (req, res, _p, s) => {
        const viewer = await requireViewer(req, s.sessions);
        const body = await readJsonObject(req, ["platform", "token"]);
        if (!(PUSH_PLATFORMS as readonly unknown[]).includes(body.platform)) throw new HttpError(400, "invalid_request", `platform must be one of ${PUSH_PLATFORMS.join(", ")}`);
        const platform = body.platform as PushPlatform;
        const token = typeof body.token === "string" ? body.token : "";
        const problem = deviceTokenProblem(platform, token);
        if (problem) throw new HttpError(400, "invalid_request", problem);
        const added = await need(s.devices, s).register(BigInt(viewer.user.id), platform, token);
        sendJson(res, added ? 201 : 200, { platform, token, registered: true });
    }],
    ["GET", /^\/api\/v1\/devices$/, async (req, res, _p, s) => {
        const viewer = await requireViewer(req, s.sessions);
        sendJson(res, 200, { devices: await need(s.devices, s).list(BigInt(viewer.user.id)) });
    }],
    ["DELETE", /^\/api\/v1\/devices\/([^/]+)$/, async (req, res, [token], s) => {
        const viewer = await requireViewer(req, s.sessions);
        if (!PUSH_PLATFORMS.some((p) => deviceTokenProblem(p, token) === undefined)) throw new HttpError(400, "invalid_request", "not a device token of any platform");
        if (!(await need(s.devices, s).remove(BigInt(viewer.user.id), token))) throw new HttpError(404, "not_found", "no such device is registered for this user");
        res.writeHead(204).end();
    }],
];
