package org.axonframework.extensions.outbox.store.jdbc;

import org.h2.jdbcx.JdbcDataSource;

import javax.sql.DataSource;

/** The store's contract on H2 (in memory). */
class H2JdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final JdbcDataSource DATA_SOURCE = new JdbcDataSource();

    static {
        DATA_SOURCE.setURL("jdbc:h2:mem:outbox-store-it;DB_CLOSE_DELAY=-1");
    }

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }
}
