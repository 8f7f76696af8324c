package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.store.OutboxNodes.Node;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.truncate;

/** The relay nodes' heartbeats in {@code <table>_node}: who is alive, with the segments each owns. */
final class JdbcNodes {

    private final JdbcAccess db;

    JdbcNodes(JdbcAccess db) {
        this.db = db;
    }

    void heartbeat(String nodeId, Instant at, String segments) {
        db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement upsert = connection.prepareStatement(db.sql(connection).get("heartbeat"))) {
                upsert.setString(1, nodeId);
                upsert.setObject(2, times.bind(at));
                upsert.setString(3, truncate(segments, 1000));
                upsert.executeUpdate();
            }
            return null;
        });
    }

    List<Node> liveNodes(Instant since) {
        return db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement select = connection.prepareStatement(db.sql(connection).get("liveNodes"))) {
                select.setObject(1, times.bind(since));
                try (ResultSet rs = select.executeQuery()) {
                    List<Node> nodes = new ArrayList<>();
                    while (rs.next()) {
                        nodes.add(new Node(rs.getString(1), times.read(rs, "heartbeat_at"), rs.getString(3)));
                    }
                    return nodes;
                }
            }
        });
    }

    void leave(String nodeId) {
        db.withConnection(connection -> {
            try (PreparedStatement delete = connection.prepareStatement(db.sql(connection).get("leave"))) {
                delete.setString(1, nodeId);
                delete.executeUpdate();
            }
            return null;
        });
    }

    void forgetNodes(Instant before) {
        db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            try (PreparedStatement delete = connection.prepareStatement(db.sql(connection).get("forgetNodes"))) {
                delete.setObject(1, times.bind(before));
                delete.executeUpdate();
            }
            return null;
        });
    }
}
