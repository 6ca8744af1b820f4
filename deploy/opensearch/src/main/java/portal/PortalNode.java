package portal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.geo.GeoModulePlugin;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch node whose modules are loaded from the classpath, as the distribution's
 * modules/ directory would provide them. Going around org.opensearch.bootstrap.Bootstrap also
 * skips its production-only checks (running as root, vm.max_map_count, memory locking), which
 * do not apply to a development node bound to 127.0.0.1.
 *
 * Usage: java -cp 'lib/*' portal.PortalNode CONFIG_DIR [setting=value ...]
 * CONFIG_DIR holds opensearch.yml and log4j2.properties; the settings given override the file.
 */
public final class PortalNode extends Node {

    static final List<Class<? extends Plugin>> MODULES = List.of(
        Netty4Plugin.class,          // HTTP and transport
        CommonAnalysisPlugin.class,  // edge_ngram, asciifolding, stemmers, ...
        MapperExtrasPlugin.class,    // search_as_you_type, scaled_float, rank_feature
        PainlessPlugin.class,        // scripts
        ReindexPlugin.class,         // _reindex, _update_by_query, _delete_by_query
        GeoModulePlugin.class        // geohash/geotile grids, geo_bounds (geo_point/geo_shape are in the server)
    );

    private PortalNode(Environment environment) {
        super(environment, MODULES, true);
    }

    public static void main(String[] args) throws Exception {
        LogConfigurator.registerErrorListener();
        Settings.Builder given = Settings.builder();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("expected setting=value, got " + args[i]);
            }
            given.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            given.build(), Map.of(), Path.of(args[0]), () -> "portal-1");
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(environment.settings()));
        LogConfigurator.configure(environment);

        Node node = new PortalNode(environment);
        // OpenSearch's threads are daemons: main must stay alive; SIGTERM runs this hook.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                LogManager.getLogger(PortalNode.class).warn("error while stopping the node", e);
            }
        }, "portal-node-shutdown"));
        try {
            node.start();
        } catch (Throwable e) {
            Logger logger = LogManager.getLogger(PortalNode.class);
            logger.fatal("node failed to start", e);
            // bin/stack shows the log's last lines, which the long trace above would fill: repeat its causes.
            StringBuilder causes = new StringBuilder();
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                causes.append(causes.length() == 0 ? "" : " <- caused by ").append(cause);
            }
            logger.fatal("node failed to start: {}", causes);
            System.exit(1);  // runs the hook, which closes what start() had opened
        }
        new CountDownLatch(1).await();
    }
}
