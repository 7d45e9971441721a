/** A cached photo's JSON with its counts spliced on is exactly the JSON of the object the API would build. */
import { describe, expect, test } from "vitest";
import { MediaRecord, mediaJson, withCounts } from "../../app/api/feed";

const record: MediaRecord = {
    id: "4043115235735773265", userId: "4043115033251553281", username: "zoë_k", url: "https://media.example.com/photos/1/a.jpg",
    contentType: "image/jpeg", bytes: 1234, caption: "quotes \" and \\ backslashes, } braces {, emoji 🌅, a line\nbreak", createdAt: "2026-12-02T07:35:16.545Z",
};

describe("mediaJson", () => {
    test.each([
        ["signed in, liked", true],
        ["signed in, not liked", false],
        ["anonymous", undefined],
    ])("%s: the same text as JSON.stringify(withCounts(...))", (_name, liked) => {
        const counts = { likes: 12, comments: 3, version: 7 };
        const text = mediaJson(JSON.stringify(record), counts, liked);
        expect(text).toBe(JSON.stringify(withCounts(record, counts, liked)));
        expect(JSON.parse(text)).toEqual({ ...record, likes: 12, comments: 3, ...(liked === undefined ? {} : { viewerHasLiked: liked }) });
    });
});
