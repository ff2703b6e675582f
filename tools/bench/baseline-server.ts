import Fastify from 'fastify';

// A bare Fastify hello-world in its own process, so it doesn't share an event loop with the load generator.
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' }).then(() => process.send?.('ready'));
