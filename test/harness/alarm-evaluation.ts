/**
 * CloudWatch's alarm evaluation as AWS documents it, to run the plan's alarms over a timeline of datapoints
 * (there is no CloudWatch here: this is the stand-in, and test/program/alerting.test.ts first checks it
 * against every row of AWS's own tables).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 * - The evaluation range is wider than Evaluation Periods (N): AWS's example retrieves 5 datapoints for N = 3;
 *   modelled here as N + 2 periods, one datapoint per period.
 * - At least N real datapoints in the range: the most recent N real ones decide (M of them breaching: ALARM).
 * - None: missing → INSUFFICIENT_DATA, ignore → the current state, breaching → ALARM, notBreaching → OK.
 * - Fewer than N: the real ones plus as few filled-in ones as needed; for missing and ignore, nothing is filled
 *   in, and for missing the "premature alarm state" rule applies (the oldest breaching datapoint of the last N
 *   at least M periods old, every more recent one breaching or missing: ALARM).
 * Actions run on a change of state only; a new alarm starts in INSUFFICIENT_DATA and runs none for that.
 * A composite alarm's state is its rule over the other alarms' states.
 */

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";
export type TreatMissingData = "missing" | "ignore" | "breaching" | "notBreaching";

export interface EvaluatedAlarm {
    readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
    readonly threshold: number;
    readonly evaluationPeriods: number;
    readonly datapointsToAlarm: number;
    readonly treatMissingData: TreatMissingData;
}

/** One datapoint per period, oldest first; null is a period with no datapoint. */
export type Series = readonly (number | null)[];

function breaches(alarm: EvaluatedAlarm, value: number): boolean {
    if (alarm.comparison === "GreaterThanThreshold") return value > alarm.threshold;
    if (alarm.comparison === "GreaterThanOrEqualToThreshold") return value >= alarm.threshold;
    return value < alarm.threshold;
}

/** The state after one evaluation over `series` (its last value the newest period), from `current`. */
export function evaluate(alarm: EvaluatedAlarm, series: Series, current: AlarmState): AlarmState {
    const n = alarm.evaluationPeriods;
    const m = alarm.datapointsToAlarm;
    const range = series.slice(-(n + 2));
    const real = range.filter((v): v is number => v !== null);
    if (real.length >= n) return real.slice(-n).filter((v) => breaches(alarm, v)).length >= m ? "ALARM" : "OK";
    if (real.length === 0) {
        return { missing: "INSUFFICIENT_DATA" as const, ignore: current, breaching: "ALARM" as const, notBreaching: "OK" as const }[alarm.treatMissingData];
    }
    const breaching = real.filter((v) => breaches(alarm, v)).length;
    if (alarm.treatMissingData === "breaching" || alarm.treatMissingData === "notBreaching") {
        const filled = alarm.treatMissingData === "breaching" ? n - real.length : 0;
        return breaching + filled >= m ? "ALARM" : "OK";
    }
    if (breaching >= m) return "ALARM";
    // The premature alarm state: every real datapoint breaching, and over the last N periods the oldest breaching
    // one at least M periods old with every more recent one breaching or missing. (A real datapoint within the
    // threshold anywhere in the range keeps it OK: the docs' second table, "0 - X - -".)
    const lastN = range.slice(-n);
    const oldest = lastN.findIndex((v) => v !== null && breaches(alarm, v));
    if (alarm.treatMissingData === "missing" && breaching === real.length && oldest >= 0 && lastN.length - oldest >= m && lastN.slice(oldest + 1).every((v) => v === null || breaches(alarm, v))) return "ALARM";
    // Ignore keeps the state unless a real datapoint of the range says it is within the threshold.
    if (alarm.treatMissingData === "ignore" && breaching === real.length) return current;
    return "OK";
}

export interface Transition {
    readonly minute: number;
    readonly from: AlarmState;
    readonly to: AlarmState;
}

/** An alarm created at minute 0 and evaluated every period over `series`: its state each minute, and changes. */
export function run(alarm: EvaluatedAlarm, series: Series, initial: AlarmState = "INSUFFICIENT_DATA"): { states: AlarmState[]; transitions: Transition[] } {
    const states: AlarmState[] = [];
    const transitions: Transition[] = [];
    let state = initial;
    for (let t = 0; t < series.length; t++) {
        const next = evaluate(alarm, series.slice(0, t + 1), state);
        if (next !== state) transitions.push({ minute: t, from: state, to: next });
        state = next;
        states.push(state);
    }
    return { states, transitions };
}

/** A composite alarm "INSUFFICIENT_DATA(a) AND NOT INSUFFICIENT_DATA(b)" over two alarms' states, minute by minute. */
export function insufficientUnless(a: readonly AlarmState[], b: readonly AlarmState[]): { states: AlarmState[]; transitions: Transition[] } {
    const states: AlarmState[] = [];
    const transitions: Transition[] = [];
    let state: AlarmState = "INSUFFICIENT_DATA";
    for (let t = 0; t < a.length; t++) {
        const next: AlarmState = a[t] === "INSUFFICIENT_DATA" && b[t] !== "INSUFFICIENT_DATA" ? "ALARM" : "OK";
        if (next !== state) transitions.push({ minute: t, from: state, to: next });
        state = next;
        states.push(state);
    }
    return { states, transitions };
}

/** Parses the docs' notation: "0 - X - X" (0 within the threshold, X breaching, - missing). */
export function docSeries(text: string, breachingValue = 1, okValue = 0): Series {
    return text.trim().split(/\s+/).map((c) => (c === "-" ? null : c === "X" ? breachingValue : okValue));
}
