// Read by the PostGraphile v4 CLI from its working directory (bench/peers/pgv4): the plugins that
// give PostGraphile the filters (incl. across relations) and aggregates the query set needs.
module.exports = {
  options: {
    appendPlugins: [
      require("postgraphile-plugin-connection-filter"),
      require("@graphile/pg-aggregates").default,
    ],
    graphileBuildOptions: {
      connectionFilterRelations: true,
    },
  },
};
