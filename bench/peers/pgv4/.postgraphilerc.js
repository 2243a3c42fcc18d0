// Read by the PostGraphile v4 CLI from its working directory (bench/peers/pgv4): the plugins that
// give PostGraphile the filters (incl. across relations) and aggregates the query set needs.
module.exports = {
  options: {
    appendPlugins: [
      require("postgraphile-plugin-connection-filter"),
      require("@graphile/pg-aggregates").default,
      // bench/run-subscriptions: live queries from logical decoding (wal2json).
      ...(process.env.GRAFT_BENCH_LIVE ? [require("@graphile/subscriptions-lds").default] : []),
    ],
    graphileBuildOptions: {
      connectionFilterRelations: true,
    },
  },
};
