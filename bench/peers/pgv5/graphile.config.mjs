// PostGraphile v5 as the harness runs it: Amber preset with v4 naming (so one PostGraphile query
// set serves v4 and v5), the connection-filter and aggregates presets, production settings.
// DATABASE_URL, PORT and PG_POOL_SIZE come from the harness.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makeV4Preset } from "postgraphile/presets/v4";
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";

export default {
  extends: [
    PostGraphileAmberPreset,
    makeV4Preset({ dynamicJson: true, setofFunctionsContainNulls: false, disableQueryLog: true }),
    PostGraphileConnectionFilterPreset,
    PgAggregatesPreset,
  ],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG_POOL_SIZE ?? 50) },
    }),
  ],
  // The 10,000-row insert is a ~2 MB request (grafserv's default limit is 100 kB).
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT), graphiql: false, maxRequestLength: 50_000_000 },
  schema: { connectionFilterRelations: true },
};
