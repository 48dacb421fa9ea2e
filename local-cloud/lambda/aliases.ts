// Which code answers an integration: its URI names a function ARN (`…/functions/<ARN>/invocations`),
// maybe qualified by a version number or an alias name (`<ARN>:live`). An alias answers with its
// `functionVersion`, and with `routingConfig.additionalVersionWeights` a share of its requests goes
// to the other version. Lambda picks that share at random; locally it is a fixed rotation per alias
// (`CanaryRotation`), so tests can count on it: with a weight of 0.1 the 10th, 20th, 30th...
// request goes to the other version (0.25: the 4th, 8th...), and after n requests the other version
// has had n × weight of them, rounded down. The count starts again with each start or reload.
import type { FunctionPool } from "./lambdaPool";
import { splitFunctionArn } from "./lambdaArn";
import type { AliasModel, CloudModel } from "../program/model";

export interface FunctionTarget {
    pool: FunctionPool;
    /**
     * The version whose code answers (a number, or `$LATEST` for an unpublished function): the one
     * the qualifier picked, or the current one standing in for a version whose code is not kept.
     */
    version: string;
    /** The ARN the integration named (the function's `context.invokedFunctionArn`). */
    invokedArn: string;
}

/** Weights in parts per million: whole numbers, so the rotation never drifts with rounding. */
const SCALE = 1_000_000;

/**
 * An alias's rotation: request n (counting from 1) goes to the other version when n × weight
 * reaches a new whole number, else to the alias's own version. Deterministic, and after any n
 * requests the other version has had floor(n × weight) of them: within one of its share.
 */
export class CanaryRotation {
    private count = 0;
    private readonly weight: number;

    constructor(
        private readonly version: string,
        private readonly other?: { version: string; weight: number },
    ) {
        this.weight = Math.min(SCALE, Math.max(0, Math.round((other?.weight ?? 0) * SCALE)));
    }

    next(): string {
        if (!this.other || this.weight === 0) {
            return this.version;
        }
        this.count++;
        const crossed =
            Math.floor((this.count * this.weight) / SCALE) > Math.floor(((this.count - 1) * this.weight) / SCALE);
        return crossed ? this.other.version : this.version;
    }
}

/** The alias's rotation: its own version, and the additional one with its weight (AWS allows one). */
export function aliasRotation(alias: AliasModel): CanaryRotation {
    const [other] = Object.entries(alias.additionalVersionWeights);
    return new CanaryRotation(alias.functionVersion, other ? { version: other[0], weight: other[1] } : undefined);
}

export class FunctionRouter {
    /** Alias ARN -> its rotation, made on its first request. */
    private readonly rotations = new Map<string, CanaryRotation>();

    constructor(
        private readonly model: Pick<CloudModel, "functions" | "aliases">,
        /** The pool that runs a version of a function (lambda/functions.ts `Functions.poolFor`). */
        private readonly poolFor: (functionArn: string, version: string) => FunctionPool | undefined,
    ) {}

    /**
     * The code that answers an integration's function ARN; undefined when no function of the
     * program has that ARN, `error` when the qualifier is no alias of it (Lambda's
     * ResourceNotFoundException).
     */
    resolve(functionArn: string): FunctionTarget | { error: string } | undefined {
        const { functionArn: base, qualifier } = splitFunctionArn(functionArn);
        const fn = this.model.functions.find((f) => f.arn === base);
        if (!fn) {
            return undefined;
        }
        const target = (version: string) => {
            const pool = this.poolFor(base, version);
            return pool ? { pool, version: pool.version, invokedArn: functionArn } : undefined;
        };
        if (qualifier === undefined || qualifier === "$LATEST" || /^[0-9]+$/.test(qualifier)) {
            return target(qualifier ?? "$LATEST");
        }
        const alias = this.model.aliases?.find((a) => a.functionArn === base && a.name === qualifier);
        if (!alias) {
            return { error: `function ${fn.logicalName} (${fn.name}) has no alias "${qualifier}"` };
        }
        let rotation = this.rotations.get(alias.arn);
        if (!rotation) {
            rotation = aliasRotation(alias);
            this.rotations.set(alias.arn, rotation);
        }
        return target(rotation.next());
    }
}
