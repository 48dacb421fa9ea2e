// The route step alone: which resource and method a path reaches, built by hand, no cloud.
import { expect } from "chai";
import { matchRoute } from "../../apigateway/matchRoute";
import { api, deps, op, refusalOf, request, staged } from "./context";

describe("gateway step: matchRoute", () => {
    const restApi = api([
        op("GET", "/items/special"),
        op("GET", "/items/{id}"),
        op("ANY", "/items/{id}"),
        op("DELETE", "/items/{id}/tags/{tag}"),
        op("GET", "/{proxy+}"),
    ]);
    const d = deps(restApi);
    const route = (method: string, path: string) => {
        const ctx = staged(d, request(method, path));
        return { ctx, result: matchRoute(ctx) };
    };

    it("prefers a literal segment to a {param} and a {param} to a {proxy+}", () => {
        expect(route("GET", "/stage/items/special").ctx.match?.resource.path).to.equal("/items/special");
        const param = route("GET", "/stage/items/42").ctx;
        expect(param.match?.resource.path).to.equal("/items/{id}");
        expect(param.match?.pathParameters).to.deep.equal({ id: "42" });
        const greedy = route("GET", "/stage/other/a/b").ctx;
        expect(greedy.match?.resource.path).to.equal("/{proxy+}");
        expect(greedy.match?.pathParameters).to.deep.equal({ proxy: "other/a/b" });
    });

    it("takes the explicit method before ANY, and ANY for the others", () => {
        expect(route("GET", "/stage/items/1").ctx.operation?.method).to.equal("GET");
        expect(route("PATCH", "/stage/items/1").ctx.operation?.method).to.equal("ANY");
    });

    it("refuses a path no resource matches, or a method the resource lacks, with MISSING_AUTHENTICATION_TOKEN", () => {
        const none = route("GET", "/stage");
        expect(refusalOf(none.result)).to.equal("MISSING_AUTHENTICATION_TOKEN");
        expect(none.ctx.match).to.equal(undefined);
        expect(refusalOf(route("GET", "/stage/items/1/tags/x").result)).to.equal("MISSING_AUTHENTICATION_TOKEN");
        expect(route("DELETE", "/stage/items/1/tags/x").result).to.equal(undefined);
    });

    it("gives templates and the access log the resource it matched", () => {
        const logged = api([op("GET", "/items/{id}")], {
            stages: [
                {
                    name: "stage",
                    deploymentId: "d",
                    variables: null,
                    accessLog: { format: "$context.resourcePath", destinationArn: "arn" },
                },
            ],
        });
        const ctx = staged(deps(logged), request("GET", "/stage/items/7"));
        expect(matchRoute(ctx)).to.equal(undefined);
        expect(ctx.template?.context["resourcePath"]).to.equal("/items/{id}");
        expect(ctx.template?.request.path).to.deep.equal({ id: "7" });
        expect(ctx.access?.resourcePath).to.equal("/items/{id}");
        expect(ctx.access?.resourceId).to.equal(ctx.match?.resource.id);
        expect(ctx.integration).to.deep.equal(logged.operations[0]!.integration);
    });
});
